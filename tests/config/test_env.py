"""Reading settings from the environment: strict values, clear messages naming the variable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list, env_str, mailer_from_env

SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture(autouse=True)
def clean_mail_env(monkeypatch):
    for name in (
        "EMAIL_URL",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_TLS",
        "EMAIL_USE_SSL",
        "EMAIL_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)


@pytest.mark.parametrize("raw", ["1", "true", "True", "TRUE", "yes", "Yes", "on", "ON", " on "])
def test_env_bool_accepts_true_words_in_any_case(monkeypatch, raw):
    monkeypatch.setenv("FEATURE_X", raw)
    assert env_bool("FEATURE_X", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "NO", "off", "Off"])
def test_env_bool_accepts_false_words_in_any_case(monkeypatch, raw):
    monkeypatch.setenv("FEATURE_X", raw)
    assert env_bool("FEATURE_X", True) is False


@pytest.mark.parametrize("raw", ["2", "y", "n", "enabled", "tru", "yes please", "-1"])
def test_env_bool_rejects_anything_else_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("FEATURE_X", raw)
    with pytest.raises(ImproperlyConfigured, match=r"FEATURE_X=.* is not a boolean"):
        env_bool("FEATURE_X", False)


def test_env_bool_uses_the_default_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("FEATURE_X", raising=False)
    assert env_bool("FEATURE_X", True) is True
    monkeypatch.setenv("FEATURE_X", "")
    assert env_bool("FEATURE_X", False) is False


def test_env_int_parses_and_defaults(monkeypatch):
    monkeypatch.delenv("WORKERS", raising=False)
    assert env_int("WORKERS", 4) == 4
    monkeypatch.setenv("WORKERS", " 12 ")
    assert env_int("WORKERS", 4) == 12


@pytest.mark.parametrize("raw", ["ten", "1.5", "3x", "0x10"])
def test_env_int_rejects_non_integers_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("WORKERS", raw)
    with pytest.raises(ImproperlyConfigured, match=r"WORKERS=.* is not an integer"):
        env_int("WORKERS", 4)


def test_env_int_enforces_the_minimum(monkeypatch):
    monkeypatch.setenv("WORKERS", "0")
    with pytest.raises(ImproperlyConfigured, match="WORKERS=0 must be at least 1"):
        env_int("WORKERS", 4, minimum=1)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example.com, b.example.com ,,")
    assert env_list("HOSTS") == ["a.example.com", "b.example.com"]
    monkeypatch.delenv("HOSTS")
    assert env_list("HOSTS", ["localhost"]) == ["localhost"]


def test_env_choice_accepts_any_case_and_rejects_unknown(monkeypatch):
    monkeypatch.setenv("LEVEL", "WARNING")
    assert env_choice("LEVEL", "info", {"info", "warning"}) == "warning"
    monkeypatch.setenv("LEVEL", "loud")
    with pytest.raises(ImproperlyConfigured, match="LEVEL='loud' must be one of: info, warning"):
        env_choice("LEVEL", "info", {"info", "warning"})


def test_env_str_reads_a_secret_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n")
    monkeypatch.setenv("API_SECRET", "from-env")
    monkeypatch.setenv("API_SECRET_FILE", str(secret))
    assert env_str("API_SECRET") == "s3cr3t"


def test_env_str_names_an_unreadable_secret_file(monkeypatch, tmp_path):
    monkeypatch.setenv("API_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="API_SECRET_FILE: cannot read"):
        env_str("API_SECRET")


# ---------------------------------------------------------------- mail


def test_email_url_smtp_with_starttls_and_credentials(monkeypatch, tmp_path):
    monkeypatch.setenv("EMAIL_URL", "smtp://mailer%40corp:p%40ss@mail.example.com:2525?tls=1")
    mailer = mailer_from_env(tmp_path, debug=False)
    assert mailer == {
        "BACKEND": SMTP,
        "OPTIONS": {
            "host": "mail.example.com",
            "port": 2525,
            "username": "mailer@corp",
            "password": "p@ss",
            "use_tls": True,
            "use_ssl": False,
            "timeout": 20,
        },
    }


def test_email_url_plain_smtp_defaults_to_port_25(monkeypatch, tmp_path):
    monkeypatch.setenv("EMAIL_URL", "smtp://relay.internal")
    options = mailer_from_env(tmp_path, debug=False)["OPTIONS"]
    assert (options["port"], options["use_tls"], options["use_ssl"]) == (25, False, False)


def test_email_url_smtps_is_implicit_tls_on_465(monkeypatch, tmp_path):
    monkeypatch.setenv("EMAIL_URL", "smtps://user:pw@smtp.example.com")
    monkeypatch.setenv("EMAIL_TIMEOUT", "5")
    options = mailer_from_env(tmp_path, debug=False)["OPTIONS"]
    assert (options["port"], options["use_ssl"], options["use_tls"]) == (465, True, False)
    assert options["timeout"] == 5


def test_email_url_console(monkeypatch, tmp_path):
    monkeypatch.setenv("EMAIL_URL", "console:")
    assert mailer_from_env(tmp_path, debug=False) == {
        "BACKEND": "django.core.mail.backends.console.EmailBackend"
    }


def test_email_url_file_writes_to_the_given_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("EMAIL_URL", "file:///var/spool/prospector-mail")
    assert mailer_from_env(tmp_path, debug=False) == {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": "/var/spool/prospector-mail"},
    }


@pytest.mark.parametrize("url", ["http://mail.example.com", "sendgrid://key", "mailto:x@y"])
def test_email_url_with_an_unknown_scheme_is_refused(monkeypatch, tmp_path, url):
    monkeypatch.setenv("EMAIL_URL", url)
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL scheme"):
        mailer_from_env(tmp_path, debug=False)


def test_email_url_with_a_bad_port_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("EMAIL_URL", "smtp://mail.example.com:notaport")
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL has an invalid port"):
        mailer_from_env(tmp_path, debug=False)


def test_email_host_variables_build_an_smtp_mailer(monkeypatch, tmp_path):
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    monkeypatch.setenv("EMAIL_PORT", "2587")
    monkeypatch.setenv("EMAIL_HOST_USER", "apikey")
    monkeypatch.setenv("EMAIL_HOST_PASSWORD", "hunter2")
    assert mailer_from_env(tmp_path, debug=False) == {
        "BACKEND": SMTP,
        "OPTIONS": {
            "host": "smtp.example.com",
            "port": 2587,
            "username": "apikey",
            "password": "hunter2",
            "use_tls": True,
            "use_ssl": False,
            "timeout": 20,
        },
    }


def test_email_host_with_ssl_defaults_to_465_without_starttls(monkeypatch, tmp_path):
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    monkeypatch.setenv("EMAIL_USE_SSL", "yes")
    options = mailer_from_env(tmp_path, debug=False)["OPTIONS"]
    assert (options["port"], options["use_ssl"], options["use_tls"]) == (465, True, False)


def test_email_host_with_a_malformed_boolean_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    monkeypatch.setenv("EMAIL_USE_TLS", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="EMAIL_USE_TLS"):
        mailer_from_env(tmp_path, debug=False)


def test_without_mail_settings_development_prints_and_production_writes_files(tmp_path):
    assert mailer_from_env(tmp_path, debug=True)["BACKEND"].endswith("console.EmailBackend")
    production = mailer_from_env(tmp_path, debug=False)
    assert production["BACKEND"].endswith("filebased.EmailBackend")
    assert production["OPTIONS"]["file_path"] == str(tmp_path / "var" / "mail")


def test_settings_put_the_mailer_from_the_environment_in_mailers():
    import json

    from tests.config.test_startup import run

    show = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.MAILERS))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    result = run(["-c", show], env | {"EMAIL_URL": "smtps://bot:pw@mail.example.com"})
    assert result.returncode == 0, result.stderr
    mailers = json.loads(result.stdout.strip().splitlines()[-1])
    assert mailers["default"]["BACKEND"] == SMTP
    assert mailers["default"]["OPTIONS"]["host"] == "mail.example.com"
    assert mailers["default"]["OPTIONS"]["use_ssl"] is True

    result = run(["-c", show], env | {"EMAIL_URL": "gopher://mail"})
    assert result.returncode != 0
    assert "EMAIL_URL scheme 'gopher' is not supported" in result.stderr


def test_env_str_treats_empty_as_unset(monkeypatch):
    # `NAME=` lines of .env.example mean "the default".
    monkeypatch.setenv("SENDER", "")
    assert env_str("SENDER", "Prospector <no-reply@localhost>") == "Prospector <no-reply@localhost>"
    monkeypatch.setenv("SENDER", "  ops@example.com ")
    assert env_str("SENDER", "x") == "ops@example.com"


@pytest.mark.parametrize("raw", ["600/m", "10/h", "100/15m", "5/s", "1/d"])
def test_env_rate_accepts_rates(monkeypatch, raw):
    from config.env import env_rate

    monkeypatch.setenv("SOME_RATE", raw)
    assert env_rate("SOME_RATE", "1/m") == raw


@pytest.mark.parametrize("raw", ["600", "600/minute", "abc", "/m", "10/m/ip"])
def test_env_rate_refuses_what_the_rate_limiter_cannot_read(monkeypatch, raw):
    # django-ratelimit would fail on it at every limited request, so start-up stops instead.
    from config.env import env_rate

    monkeypatch.setenv("SOME_RATE", raw)
    with pytest.raises(ImproperlyConfigured, match=r"SOME_RATE=.* is not a rate"):
        env_rate("SOME_RATE", "1/m")
