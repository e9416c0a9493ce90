"""Follow-up tasks: "My tasks" (late and today first, then upcoming), adding a task on a
lead, and marking one done (or open again)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import page
from leads.models import LeadTask
from leads.views.lead_detail import TEMPLATE, TaskForm, get_lead, lead_context

TASKS_PER_PAGE = 50


def _bucket(task: LeadTask, today) -> str:
    if task.due_date is None:
        return "later"
    if task.due_date < today:
        return "overdue"
    if task.due_date == today:
        return "today"
    return "upcoming"


BUCKET_TITLES = {
    "overdue": "Overdue",
    "today": "Due today",
    "upcoming": "Upcoming",
    "later": "No due date",
}


@org_member_required
@require_GET
def tasks(request: OrgRequest):
    """Open tasks, the late ones first: mine, or everyone's for owners and admins."""
    show_all = request.GET.get("who") == "all" and request.membership.can_manage
    today = timezone.localdate()
    open_tasks = LeadTask.objects.for_org(request.org).open().filter(lead__archived_at__isnull=True)
    if not show_all:
        open_tasks = open_tasks.assigned_to(request.user)
    open_tasks = open_tasks.select_related("lead", "lead__company", "assignee").order_by(
        F("due_date").asc(nulls_last=True), "id"
    )
    tasks_page = Paginator(open_tasks, TASKS_PER_PAGE).get_page(request.GET.get("page"))
    groups: dict[str, list[LeadTask]] = {}
    for task in tasks_page.object_list:
        groups.setdefault(_bucket(task, today), []).append(task)
    context = {
        "tasks_page": tasks_page,
        "groups": [
            (key, BUCKET_TITLES[key], groups[key]) for key in BUCKET_TITLES if key in groups
        ],
        "show_all": show_all,
        "can_manage": request.membership.can_manage,
        "can_write": request.membership.can_write,
        "today": today,
    }
    return page(request, "leads/tasks.html", context, fragment="task-list")


@org_member_required(role=Role.MEMBER)
@require_POST
def add_task(request: OrgRequest, lead_id: int):
    """A follow-up on the lead (title, due date, assignee among the members)."""
    lead = get_lead(request, lead_id)
    form = TaskForm(request.POST, organization=request.org)
    if form.is_valid():
        LeadTask.objects.create(
            organization=request.org,
            lead=lead,
            created_by=request.user,
            **form.cleaned_data,
        )
        messages.success(request, f"Follow-up “{form.cleaned_data['title']}” added.")
        form = TaskForm(organization=request.org)
    elif not request.htmx:
        messages.error(request, "The follow-up needs a title.")
    if not request.htmx:
        return redirect("leads:lead_detail", request.org.slug, lead.pk)
    return page(request, TEMPLATE, lead_context(request, lead, task_form=form), fragment="tasks")


@org_member_required(role=Role.MEMBER)
@require_POST
def toggle_task(request: OrgRequest, task_id: int):
    """Mark a task done, or open again (`done=0`); answers with the task's row."""
    task = get_object_or_404(
        LeadTask.objects.for_org(request.org).select_related("lead", "lead__company", "assignee"),
        pk=task_id,
    )
    finished = request.POST.get("done", "1") != "0"
    # Conditional: a double click or two people at once record one completion.
    LeadTask.objects.for_org(request.org).filter(pk=task.pk, done_at__isnull=finished).update(
        done_at=timezone.now() if finished else None
    )
    task.refresh_from_db(fields=["done_at"])
    messages.success(request, f"“{task.title}” {'done' if finished else 'reopened'}.")
    if not request.htmx:
        back = request.POST.get("next", "")
        if back == "lead":
            return redirect("leads:lead_detail", request.org.slug, task.lead_id)
        return redirect("leads:tasks", request.org.slug)
    context = {
        "task": task,
        "today": timezone.localdate(),
        "can_write": True,
        "show_lead": request.POST.get("next") != "lead",
        "org": request.org,
    }
    return page(request, "leads/_task.html", context, fragment="task")
