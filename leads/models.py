"""Companies, leads and everything a rep records about them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import OrgQuerySet, OrgScoped


class CompanySize(models.TextChoices):
    S1 = "1-10", "1-10"
    S11 = "11-50", "11-50"
    S51 = "51-200", "51-200"
    S201 = "201-500", "201-500"
    S501 = "501-1000", "501-1,000"
    S1001 = "1001-5000", "1,001-5,000"
    S5001 = "5001-10000", "5,001-10,000"
    S10001 = "10001+", "10,001+"


class CompanyQuerySet(OrgQuerySet):
    def search(self, text: str):
        text = text.strip()
        if not text:
            return self
        return self.filter(Q(name__icontains=text) | Q(domain__icontains=text))


class Company(OrgScoped):
    name = models.CharField(max_length=200)
    # The registered domain ("acme.co.uk"), lower case; empty when unknown.
    domain = models.CharField(max_length=253, blank=True)
    website = models.URLField(max_length=500, blank=True)
    industry = models.CharField(max_length=120, blank=True)
    size_range = models.CharField(max_length=12, choices=CompanySize.choices, blank=True)
    location = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    linkedin_url = models.URLField(max_length=500, blank=True)
    # Filled by enrichment: the researched profile with sources.
    enriched_data = models.JSONField(default=dict, blank=True)
    external_ids = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "domain"],
                condition=~Q(domain=""),
                name="company_domain_unique_per_org",
            )
        ]
        indexes = [models.Index(Lower("name"), "organization", name="company_org_lower_name")]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    REPLIED = "replied", "Replied"
    QUALIFIED = "qualified", "Qualified"
    CONVERTED = "converted", "Converted"
    LOST = "lost", "Lost"


class Tag(OrgScoped):
    name = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="tag_name_unique_per_org")
        ]

    def __str__(self) -> str:
        return self.name


class LeadQuerySet(OrgQuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)

    def with_status(self, status: str):
        return self.filter(status=status)

    def owned_by(self, user):
        return self.filter(owner=user)

    def search(self, text: str):
        text = text.strip()
        if not text:
            return self
        query = (
            Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
            | Q(email__icontains=text)
            | Q(title__icontains=text)
            | Q(company__name__icontains=text)
        )
        if " " in text:
            first, _, last = text.partition(" ")
            query |= Q(first_name__icontains=first.strip(), last_name__icontains=last.strip())
        return self.filter(query)

    def with_card_data(self):
        """What a board card or list row shows, in a constant number of queries."""
        return self.select_related("company", "owner").prefetch_related("tags")


class Lead(OrgScoped):
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    # Lower case and stripped; unique per organization among active leads.
    email = models.EmailField(max_length=254, blank=True)
    # E.164 when the number could be parsed; what was given is kept in phone_raw.
    phone = models.CharField(max_length=20, blank=True)
    phone_raw = models.CharField(max_length=50, blank=True)
    title = models.CharField(max_length=200, blank=True)
    linkedin_url = models.URLField(max_length=500, blank=True)
    location = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    score = models.PositiveSmallIntegerField(default=0)
    # [{"rule": "...", "points": 20, "matched": true}, ...] from the scoring rules.
    score_explanation = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.ManyToManyField(Tag, through="LeadTag", related_name="leads", blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    # {"hubspot": "123", "salesforce": "00Q..."}
    external_ids = models.JSONField(default=dict, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    last_contacted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(archived_at__isnull=True) & ~Q(email=""),
                name="lead_email_unique_among_active",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"], name="lead_board"),
            models.Index(fields=["organization", "-created_at"], name="lead_list"),
            models.Index(fields=["organization", "email"], name="lead_email"),
            models.Index(fields=["organization", "owner"], name="lead_owner"),
            models.Index(fields=["organization", "-score"], name="lead_score"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email or f"Lead #{self.pk}"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class LeadTag(OrgScoped):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "tag"], name="lead_tag_once")]


class LeadCount(models.Model):
    """A change to an organization's number of active leads in one status.

    Written only by database triggers on leads_lead (migration 0003: statement-level with
    transition tables on PostgreSQL, row-level on SQLite), so every insert, update, delete,
    bulk_create and queryset.update() is counted, whatever code ran it. The count of a status
    is the sum of its rows (`leads.counts.status_counts`); compaction folds the rows into one
    per status now and then. Rows are only ever inserted and folded, never updated in
    place, so concurrent writers never wait on each other or deadlock.

    No foreign key constraint: deleting an organization deletes its leads, whose triggers
    write rows here after Django's collector has passed this table; compaction drops the
    rows of organizations that no longer exist.
    """

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    status = models.CharField(max_length=12)
    n = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["organization", "status"], name="lead_count_org")]

    def __str__(self) -> str:
        return f"{self.status} {self.n:+d}"


class ActivityKind(models.TextChoices):
    NOTE = "note", "Note"
    STATUS_CHANGE = "status_change", "Status change"
    FIELD_CHANGE = "field_change", "Fields edited"
    CREATED = "created", "Created"
    IMPORT = "import", "Imported"
    EMAIL_SENT = "email_sent", "Email sent"
    EMAIL_RECEIVED = "email_received", "Email received"
    AGENT_RUN = "agent_run", "Agent run"
    ENRICHMENT = "enrichment", "Enrichment"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    FORM_SUBMISSION = "form_submission", "Form submission"
    MERGE = "merge", "Merged"
    ARCHIVED = "archived", "Archived"
    RESTORED = "restored", "Restored"


class ActivityQuerySet(OrgQuerySet):
    def for_lead(self, lead: Lead):
        return self.filter(organization_id=lead.organization_id, lead=lead)


class Activity(OrgScoped):
    """One entry of a lead's timeline.

    The busiest table there is (an import of 100,000 leads writes 100,000 of these), so its
    organization and actor are not checked by the database on every insert: every row is
    written by the app with the request's organization and user, and Django still carries
    out on_delete for both (an organization's activities go with it, a deleted user's
    become anonymous). The lead, the row's real parent, keeps its database constraint.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    body = models.TextField(blank=True)
    # Kind-specific facts: {"from": "new", "to": "contacted"}, {"changes": {...}}, ...
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["organization", "lead", "-occurred_at"], name="activity_timeline"),
            models.Index(fields=["organization", "-occurred_at"], name="activity_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.lead_id}"


class Suppression(OrgScoped):
    """An address never to import or mail again (erased leads, unsubscribes, bounces)."""

    email = models.EmailField(max_length=254)
    reason = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "email"], name="suppressed_once")
        ]

    def __str__(self) -> str:
        return self.email


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    BOOLEAN = "boolean", "Yes / no"
    CHOICE = "choice", "Choice"
    URL = "url", "Link"


class CustomFieldDefinition(OrgScoped):
    """A per-organization lead field, stored in `Lead.custom_fields[key]`."""

    key = models.SlugField(max_length=50)
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=10, choices=FieldType.choices, default=FieldType.TEXT)
    choices = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="custom_field_key_once")
        ]

    def __str__(self) -> str:
        return self.label


class LeadTaskQuerySet(OrgQuerySet):
    def open(self):
        return self.filter(done_at__isnull=True)

    def due_by(self, day):
        return self.open().filter(due_date__lte=day)

    def overdue(self, today):
        return self.open().filter(due_date__lt=today)

    def assigned_to(self, user):
        return self.filter(assignee=user)


class LeadTask(OrgScoped):
    """A follow-up to do on a lead."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    due_date = models.DateField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LeadTaskQuerySet.as_manager()

    class Meta:
        ordering = ["done_at", "due_date", "id"]
        indexes = [
            models.Index(fields=["organization", "assignee", "due_date"], name="task_assignee_due"),
            models.Index(fields=["organization", "lead"], name="task_lead"),
        ]

    def __str__(self) -> str:
        return self.title


class SavedView(OrgScoped):
    """A named set of list/board filters of one user, shown in the sidebar."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    # The filter querystring ("status=new&tag=vip&owner=3"), validated by the filter form.
    query = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "name"], name="saved_view_name_once"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    DRAFT = "draft", "Waiting for the column mapping"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    REVERTING = "reverting", "Reverting"
    REVERTED = "reverted", "Reverted"


class DuplicatePolicy(models.TextChoices):
    SKIP = "skip", "Skip the row"
    UPDATE = "update", "Update the existing lead"
    CREATE = "create", "Create another lead"


class ImportJob(OrgScoped):
    """A CSV import: its file, column mapping, progress counters and outcome."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_filename = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    headers = models.JSONField(default=list, blank=True)
    # {"Email Address": "email", "Company": "company", "Ignored column": ""}
    mapping = models.JSONField(default=dict, blank=True)
    on_duplicate = models.CharField(
        max_length=6, choices=DuplicatePolicy.choices, default=DuplicatePolicy.SKIP
    )
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.DRAFT
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reverted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.original_filename})"


class ImportRowError(OrgScoped):
    """A row that was not imported, with its line number and why."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line_number = models.PositiveIntegerField()
    reason = models.CharField(max_length=500)
    row = models.JSONField(default=list)

    class Meta:
        ordering = ["line_number"]
        indexes = [
            models.Index(fields=["organization", "job", "line_number"], name="import_error_line")
        ]


class ImportChange(OrgScoped):
    """What an import did to one lead, so the import can be reverted."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="changes")
    # Updates: the lead. Creations: none (see lead_ids).
    lead = models.ForeignKey(Lead, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=7, choices=Action.choices)
    # For updates: the fields' values before the import.
    previous = models.JSONField(default=dict, blank=True)
    # For creations: the ids of the leads one chunk of the file created, in one row (a row
    # per created lead, with its three foreign keys to check, cost the import a quarter of
    # its time). A revert deletes those still there; ids of leads erased since are skipped.
    lead_ids = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "job"], name="import_change_job")]


def _public_id() -> str:
    import secrets

    return secrets.token_urlsafe(12)


class CaptureForm(OrgScoped):
    """A lead-capture form: its public endpoint `POST /f/<public_id>` creates or updates leads."""

    name = models.CharField(max_length=120)
    public_id = models.CharField(max_length=32, unique=True, default=_public_id)
    # [{"name": "email", "label": "Work email", "required": true, "type": "email"}, ...]
    fields = models.JSONField(default=list)
    success_message = models.CharField(max_length=500, default="Thanks! We'll be in touch.")
    redirect_url = models.URLField(max_length=500, blank=True)
    source = models.CharField(max_length=60, default="form")
    tags = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    submission_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FormSubmission(OrgScoped):
    form = models.ForeignKey(CaptureForm, on_delete=models.CASCADE, related_name="submissions")
    lead = models.ForeignKey(Lead, null=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict)
    # utm_source, utm_medium, utm_campaign, utm_term, utm_content
    utm = models.JSONField(default=dict, blank=True)
    referrer = models.CharField(max_length=1000, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "form", "-created_at"], name="submission_form")
        ]


class ScoringProfile(OrgScoped):
    """The organization's ideal customer and the weight of each rule (0-100 points in all)."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="scoring_profile"
    )
    industries = models.JSONField(default=list, blank=True)
    company_sizes = models.JSONField(default=list, blank=True)
    countries = models.JSONField(default=list, blank=True)
    title_keywords = models.JSONField(default=list, blank=True)
    seniorities = models.JSONField(default=list, blank=True)
    required_fields = models.JSONField(default=list, blank=True)
    # {"industry": 25, "company_size": 20, "country": 15, "title": 25, "seniority": 10, "complete": 5}
    weights = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Scoring for {self.organization_id}"
