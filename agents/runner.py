"""The tool loop: one agent run from queued to finished, every step on record.

Each model turn and each tool call is saved as an AgentStep as it happens (the lead page
polls them), with tokens, cost, latency and the provider attempts behind the answer. The
run stops at the step limit, at the time limit, when the budget is spent, when a rep
cancels it, or when every provider fails; a finished run says why.
"""

from __future__ import annotations

import json
import logging
import time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import events
from agents import ai
from agents.kinds import KINDS, Kind
from agents.llm import AllProvidersFailed, Message, Request, Response, complete
from agents.models import AgentRun, AgentStep, RunStatus, StepKind
from agents.tools import TOOLS, ToolContext, run_tool
from leads import services as lead_services
from leads.models import ActivityKind

logger = logging.getLogger(__name__)

FINAL_TURN_PROMPT = (
    "This is the last turn: no more tools. Answer now with the JSON object, from what you "
    "have found."
)


class RunStopped(Exception):
    """The run ends here without an answer; the message says why."""


def _claim(run_id: int) -> AgentRun | None:
    claimed = AgentRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    return AgentRun.objects.select_related("organization", "user", "lead__company").get(pk=run_id)


class Recorder:
    """Writes steps and running totals as they happen."""

    def __init__(self, run: AgentRun):
        self.run = run
        self.index = run.steps.count()

    def step(self, **fields: Any) -> AgentStep:
        step = AgentStep.objects.create(
            organization_id=self.run.organization_id, run=self.run, index=self.index, **fields
        )
        self.index += 1
        return step

    def model_turn(self, response: Response) -> Decimal:
        cost = ai.cost_cents(response.provider, response.model, response.usage)
        if response.tool_calls:
            summary = "Asked for " + ", ".join(call.name for call in response.tool_calls)
            if response.text:
                summary = f"{response.text.strip()[:500]}\n{summary}"
        else:
            summary = (response.text or "").strip()[:2000]
        self.step(
            kind=StepKind.MODEL,
            name=f"{response.provider}/{response.model}",
            arguments={},
            summary=summary,
            tokens_input=response.usage.input_tokens,
            tokens_output=response.usage.output_tokens,
            cost_cents=cost,
            latency_ms=response.latency_ms,
            attempts=[vars(a) for a in response.attempts],
        )
        AgentRun.objects.filter(pk=self.run.pk).update(
            provider=response.provider,
            model=response.model,
            tokens_input=F("tokens_input") + response.usage.input_tokens,
            tokens_output=F("tokens_output") + response.usage.output_tokens,
            cost_cents=F("cost_cents") + cost,
        )
        ai.meter(
            self.run.organization,
            self.run.user,
            cost,
            metadata={
                "run_id": self.run.pk,
                "provider": response.provider,
                "model": response.model,
            },
        )
        return cost

    def failed_turn(self, error: AllProvidersFailed) -> None:
        self.step(
            kind=StepKind.MODEL,
            name="no answer",
            summary=str(error)[:2000],
            ok=False,
            latency_ms=sum(a.latency_ms for a in error.attempts),
            attempts=[vars(a) for a in error.attempts],
        )


def _cancelled(run: AgentRun) -> bool:
    return AgentRun.objects.filter(pk=run.pk, status=RunStatus.CANCELLED).exists()


def _parse_answer(response: Response) -> dict[str, Any] | None:
    if response.data is not None:
        return response.data
    text = (response.text or "").strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def loop(run: AgentRun, kind: Kind, ctx: ToolContext) -> dict[str, Any]:
    """The model and tool turns until an answer; returns the finished result."""
    recorder = Recorder(run)
    chain = ai.chain_for(run.organization)
    if not any(config.usable for config in chain):
        raise RunStopped(
            "No AI provider is available: add a key in Settings > AI, or include "
            "'offline' in the provider order."
        )
    messages = kind.messages(ctx)
    specs = [TOOLS[name].spec for name in kind.tools]
    offline = kind.offline(ctx)
    deadline = time.monotonic() + settings.AGENT_TIME_LIMIT_SECONDS
    max_steps = settings.AGENT_MAX_STEPS
    for turn in range(max_steps):
        if _cancelled(run):
            raise RunStopped("Cancelled.")
        if time.monotonic() >= deadline:
            raise RunStopped(
                f"Stopped at the time limit ({settings.AGENT_TIME_LIMIT_SECONDS} s) without an answer."
            )
        ai.check_budget(run.organization)
        last = turn == max_steps - 1
        if last and specs:
            messages.append(Message("user", FINAL_TURN_PROMPT))
        request = Request(
            messages=list(messages),
            tools=[] if last else specs,
            schema=kind.schema,
            schema_name=kind.name,
            max_tokens=settings.AI_MAX_TOKENS,
            offline=offline,
        )
        try:
            response = complete(request, chain, retries=settings.AI_MAX_RETRIES, deadline=deadline)
        except AllProvidersFailed as error:
            recorder.failed_turn(error)
            raise RunStopped(str(error)) from error
        recorder.model_turn(response)
        if response.tool_calls and not last:
            messages.append(Message("assistant", response.text, list(response.tool_calls)))
            for call in response.tool_calls:
                started = time.monotonic()
                ok, text = run_tool(ctx, call.name, call.arguments, kind.tools)
                recorder.step(
                    kind=StepKind.TOOL,
                    name=call.name[:120],
                    arguments=call.arguments if isinstance(call.arguments, dict) else {},
                    summary=text[:2000],
                    ok=ok,
                    latency_ms=int((time.monotonic() - started) * 1000),
                )
                messages.append(Message("tool", text, tool_call_id=call.id))
            continue
        data = _parse_answer(response)
        if data is None:
            if last:
                raise RunStopped("The model's last answer was not the JSON object asked for.")
            messages.append(Message("assistant", response.text))
            messages.append(
                Message("user", "Answer with the JSON object the response format asks for.")
            )
            continue
        try:
            return kind.finish(ctx, data)
        except ValueError as exc:
            if last:
                raise RunStopped(f"The answer could not be used: {exc}") from exc
            messages.append(Message("assistant", response.text or json.dumps(data)))
            messages.append(Message("user", f"That answer could not be used: {exc} Try again."))
    raise RunStopped(f"Stopped at the step limit ({max_steps} turns) without an answer.")


def _finish(run: AgentRun, *, status: str, success: bool, result: dict, error: str) -> None:
    with transaction.atomic():
        updated = AgentRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=status, success=success, result=result, error=error, completed_at=timezone.now()
        )
        if not updated:  # cancelled meanwhile: keep the cancellation, note the end
            AgentRun.objects.filter(pk=run.pk).update(completed_at=timezone.now())
        run.refresh_from_db()
        if run.lead_id is not None:
            cost = f"${run.cost_cents / 100:,.4f}" if run.cost_cents else "no cost"
            by = "offline rules" if run.provider == "offline" else f"{run.provider} {run.model}"
            outcome = "finished" if run.success else f"stopped: {run.error[:200]}"
            lead_services.add_activity(
                lead=run.lead,
                kind=ActivityKind.AGENT_RUN,
                actor=run.user,
                body=f"{run.get_agent_type_display()} {outcome} ({by}, {cost}).",
                data={"run_id": run.pk, "agent_type": run.agent_type, "success": run.success},
            )
        events.emit(
            run.organization,
            "agent_run.completed",
            {
                "id": run.pk,
                "agent_type": run.agent_type,
                "lead_id": run.lead_id,
                "status": run.status,
                "success": run.success,
                "cost_cents": str(run.cost_cents),
            },
            actor=run.user,
        )


def execute(run_id: int) -> str:
    """Run a queued agent run to its end. Idempotent: a run already claimed is left alone."""
    run = _claim(run_id)
    if run is None:
        return "not queued"
    kind = KINDS[run.agent_type]
    ctx = ToolContext(run=run, organization=run.organization, user=run.user, lead=run.lead)
    try:
        result = loop(run, kind, ctx)
    except (RunStopped, ai.BudgetExceeded) as exc:
        status = RunStatus.CANCELLED if _cancelled(run) else RunStatus.FAILED
        _finish(run, status=status, success=False, result={}, error=str(exc))
        return str(exc)
    except Exception as exc:
        logger.exception("agent run %s failed", run_id)
        _finish(
            run,
            status=RunStatus.FAILED,
            success=False,
            result={},
            error=f"Internal error ({type(exc).__name__}); the team has the details in the logs.",
        )
        return "error"
    _finish(run, status=RunStatus.COMPLETED, success=True, result=result, error="")
    return "completed"
