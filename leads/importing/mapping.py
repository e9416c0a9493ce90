"""Which lead field each column of an export goes to.

Headers are matched case-, space- and punctuation-insensitively against the names that
HubSpot, Salesforce, Pipedrive, Apollo, Zoho CRM, LinkedIn Sales Navigator and Google
Contacts put in their exports. The vendor, recognized from the whole header row, decides
where a generic "Record ID" goes among the external ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

IGNORE = ""

# Target key -> label, in the order the mapping form lists them.
STANDARD_TARGETS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name (split into first and last)",
    "email": "Email",
    "phone": "Phone",
    "title": "Job title",
    "company": "Company name",
    "website": "Company website or domain",
    "industry": "Company industry",
    "company_size": "Company size (employees)",
    "linkedin_url": "LinkedIn profile URL",
    "location": "Location",
    "city": "City (joined into location)",
    "state": "State or region (joined into location)",
    "country": "Country (joined into location)",
    "source": "Lead source",
    "status": "Pipeline status (new leads start in it)",
    "tags": "Tags (comma-separated)",
}
EXTERNAL_SYSTEMS = {
    "hubspot": "HubSpot",
    "salesforce": "Salesforce",
    "pipedrive": "Pipedrive",
    "apollo": "Apollo",
    "zoho": "Zoho CRM",
    "linkedin": "LinkedIn",
    "google": "Google Contacts",
    "crm": "another CRM",
}
EXTERNAL_PREFIX = "external_id:"
CUSTOM_PREFIX = "custom:"


def normalize_header(header: str) -> str:
    """ "E-mail 1 - Value" -> "email1value"; "Company / Account" -> "companyaccount"."""
    return re.sub(r"[^a-z0-9]", "", header.lower().replace("#", "number"))


_ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": (
        "firstname",
        "givenname",
        "first",
        "fname",
        "forename",
        "personfirstname",
        "contactfirstname",
    ),
    "last_name": (
        "lastname",
        "familyname",
        "surname",
        "last",
        "lname",
        "personlastname",
        "contactlastname",
    ),
    "full_name": ("fullname", "name", "personname", "contactname", "displayname", "contact"),
    "email": (
        "email",
        "emailaddress",
        "email1value",
        "email2value",
        "personemail",
        "personemailwork",
        "personemailhome",
        "personemailother",
        "emailwork",
        "workemail",
        "businessemail",
        "primaryemail",
        "contactemail",
        "secondaryemail",
    ),
    "phone": (
        "phone",
        "phonenumber",
        "phone1value",
        "phone2value",
        "personphone",
        "personphonework",
        "personphonemobile",
        "personphonehome",
        "personphoneother",
        "mobile",
        "mobilephone",
        "mobilephonenumber",
        "workphone",
        "workdirectphone",
        "directphone",
        "corporatephone",
        "businessphone",
        "homephone",
        "otherphone",
        "telephone",
    ),
    "title": (
        "title",
        "jobtitle",
        "designation",
        "position",
        "organizationtitle",
        "organization1title",
        "personjobtitle",
    ),
    "company": (
        "company",
        "companyname",
        "companyaccount",
        "account",
        "accountname",
        "organization",
        "organizationname",
        "organization1name",
        "associatedcompany",
        "employer",
        "firm",
        "companynameforemails",
    ),
    "website": (
        "website",
        "websiteurl",
        "companywebsite",
        "companydomain",
        "domain",
        "organizationwebsite",
        "companydomainname",
    ),
    "industry": ("industry", "companyindustry", "organizationindustry"),
    "company_size": (
        "numberemployees",
        "employees",
        "numberofemployees",
        "noofemployees",
        "employeecount",
        "companysize",
        "companyheadcount",
        "headcount",
    ),
    "linkedin_url": (
        "linkedinurl",
        "personlinkedinurl",
        "linkedin",
        "linkedinprofile",
        "linkedinprofileurl",
        "profileurl",
    ),
    "location": ("location", "geography", "address", "personlocation"),
    "city": ("city", "mailingcity", "personcity"),
    "state": ("state", "stateregion", "stateprovince", "region", "province"),
    "country": ("country", "countryregion", "personcountry"),
    "source": ("leadsource", "source", "originalsource", "personsource"),
    "status": (
        "leadstatus",
        "status",
        "lifecyclestage",
        "stage",
        "leadstage",
        "pipelinestage",
        "hsleadstatus",
    ),
    "tags": ("tags", "tag", "labels", "label", "personlabels", "groupmembership", "lists"),
    EXTERNAL_PREFIX + "salesforce": ("leadid", "salesforceid", "contactid18", "leadid18"),
    EXTERNAL_PREFIX + "apollo": ("apollocontactid", "apolloid"),
    EXTERNAL_PREFIX + "pipedrive": ("personid",),
    EXTERNAL_PREFIX + "hubspot": ("hubspotid", "contactid", "hubspotcontactid"),
    EXTERNAL_PREFIX + "zoho": ("zohoid", "leadrecordid"),
}
HEADER_TO_TARGET: dict[str, str] = {
    alias: target for target, aliases in _ALIASES.items() for alias in aliases
}

# Header signatures of each vendor's export (normalized names).
_VENDOR_SIGNS: dict[str, tuple[str, ...]] = {
    "apollo": ("apollocontactid", "companynameforemails", "emailstatus", "apolloaccountid"),
    "pipedrive": ("personname", "organizationname", "personemailwork", "personid"),
    "google": ("email1value", "phone1value", "givenname", "organization1name"),
    "salesforce": ("leadid", "companyaccount", "stateprovince", "leadowner"),
    "hubspot": ("lifecyclestage", "contactowner", "phonenumber", "stateregion", "countryregion"),
    "zoho": ("designation", "leadowner", "createdtime", "noofemployees"),
    "linkedin": ("profileurl", "geography", "salesnavigatorurl"),
}


def detect_vendor(headers: Iterable[str]) -> str:
    """The CRM an export most likely comes from ("hubspot", ...), or "" when unclear."""
    names = {normalize_header(h) for h in headers}
    scores = {vendor: len(names & set(signs)) for vendor, signs in _VENDOR_SIGNS.items()}
    if "recordid" in names and scores["zoho"] >= scores["hubspot"] and scores["zoho"]:
        scores["zoho"] += 1
    best = max(scores, key=lambda vendor: scores[vendor])
    return best if scores[best] else ""


def _target_for(header: str, vendor: str) -> str:
    # "Email (2)": a repeated header, told apart on upload, maps like the first one.
    name = normalize_header(re.sub(r"\s\(\d+\)$", "", header))
    if name in HEADER_TO_TARGET:
        return HEADER_TO_TARGET[name]
    if name in ("recordid", "id"):
        return EXTERNAL_PREFIX + (vendor or "crm")
    # Pipedrive-style "Person - Job title", "Lead - Source": the part after the prefix.
    for prefix in ("person", "contact", "lead"):
        if name.startswith(prefix) and name[len(prefix) :] in HEADER_TO_TARGET:
            return HEADER_TO_TARGET[name[len(prefix) :]]
    return IGNORE


def auto_map(headers: list[str], custom_fields: dict[str, str] | None = None) -> dict[str, str]:
    """{header: target} for every header (IGNORE for the ones we do not recognize).

    Custom fields (key -> label) match on their label or key. A name field is not mapped
    both ways: with first and last name columns, a "Name" column is left alone."""
    vendor = detect_vendor(headers)
    custom_by_name = {}
    for key, label in (custom_fields or {}).items():
        custom_by_name[normalize_header(label)] = CUSTOM_PREFIX + key
        custom_by_name[normalize_header(key)] = CUSTOM_PREFIX + key
    mapping = {}
    for header in headers:
        target = _target_for(header, vendor)
        if target == IGNORE:
            target = custom_by_name.get(normalize_header(header), IGNORE)
        mapping[header] = target
    targets = set(mapping.values())
    if {"first_name", "last_name"} <= targets and "full_name" in targets:
        for header, target in mapping.items():
            if target == "full_name":
                mapping[header] = IGNORE
    return mapping


def target_choices(custom_fields: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(value, label) for the mapping form's selects: ignore, fields, ids, custom fields."""
    choices = [(IGNORE, "Don't import")]
    choices += list(STANDARD_TARGETS.items())
    choices += [
        (EXTERNAL_PREFIX + key, f"{label} record id") for key, label in EXTERNAL_SYSTEMS.items()
    ]
    choices += [
        (CUSTOM_PREFIX + key, f"Custom field: {label}")
        for key, label in (custom_fields or {}).items()
    ]
    return choices


def valid_targets(custom_fields: dict[str, str] | None = None) -> set[str]:
    return {value for value, _label in target_choices(custom_fields)}


def vendor_label(vendor: str) -> str:
    return EXTERNAL_SYSTEMS.get(vendor, "")
