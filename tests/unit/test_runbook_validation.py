"""Validation of runbook sets: every problem placed at file, line and field."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from clarion.domain.errors import RunbookError
from clarion.runbook_loader import PlacedProblem, load_runbook, validate_runbook

from tests.conftest import RUNBOOKS

Edit = Callable[[str, str, str], None]


@pytest.fixture
def rb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "runbooks"
    shutil.copytree(RUNBOOKS, target)
    return target


@pytest.fixture
def edit(rb_dir: Path) -> Edit:
    def _edit(rel: str, old: str, new: str) -> None:
        path = rb_dir / rel
        text = path.read_text()
        assert old in text, f"test setup: {old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))

    return _edit


def line_of(rb_dir: Path, rel: str, needle: str) -> int:
    for i, line in enumerate((rb_dir / rel).read_text().splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(needle)


def errors(rb_dir: Path) -> list[PlacedProblem]:
    runbook, problems = validate_runbook(rb_dir)
    found = [p for p in problems if p.level == "error"]
    assert runbook is None and found, "expected the runbook set to be rejected"
    return found


def test_shipped_runbooks_pass_with_no_problem_at_all() -> None:
    runbook, problems = validate_runbook(RUNBOOKS)
    assert problems == []
    assert runbook is not None
    assert len(runbook.components.components) >= 8
    assert len(runbook.components.groups) >= 3
    assert runbook.providers == {"Paybridge"}


def test_unknown_component_in_rule_names_file_line_and_field(rb_dir: Path, edit: Edit) -> None:
    edit("rules.yaml", "components: [invoicing]", "components: [invoicng]")
    (p,) = errors(rb_dir)
    assert p.file == "rules.yaml"
    assert p.line == line_of(rb_dir, "rules.yaml", "invoicng")
    assert p.field == "rules.7.components.0"
    assert "unknown component 'invoicng'" in p.message


def test_bad_severity_is_placed(rb_dir: Path, edit: Edit) -> None:
    edit(
        "rules.yaml",
        "severity: SEV4\n\n  - id: notification-backlog",
        "severity: SEV9\n\n  - id: notification-backlog",
    )
    (p,) = errors(rb_dir)
    assert (p.file, p.field) == ("rules.yaml", "rules.8.severity")
    assert p.line == line_of(rb_dir, "rules.yaml", "SEV9")


def test_missing_policy_level(rb_dir: Path, edit: Edit) -> None:
    text = (rb_dir / "policies.yaml").read_text()
    (rb_dir / "policies.yaml").write_text(text[: text.index("  SEV5:")])
    (p,) = errors(rb_dir)
    assert p.file == "policies.yaml"
    assert "missing: SEV5" in p.message


def test_bad_duration_explains_the_form(rb_dir: Path, edit: Edit) -> None:
    edit("policies.yaml", "timeout: 10m", "timeout: 10 minutes")
    (p,) = errors(rb_dir)
    assert p.file == "policies.yaml"
    assert p.line == line_of(rb_dir, "policies.yaml", "10 minutes")
    assert "'10m'" in p.message


def test_yaml_syntax_error_has_a_line(rb_dir: Path) -> None:
    (rb_dir / "roles.yaml").write_text("people:\n  amara: {name: A, email: a@b.c\nroles: {}\n")
    (p,) = errors(rb_dir)
    assert p.file == "roles.yaml" and p.line >= 2 and "YAML syntax error" in p.message


def test_duplicate_keys_are_caught(rb_dir: Path, edit: Edit) -> None:
    edit("roles.yaml", "  dana:", "  chen:   {name: Chen Again, email: c2@ledgerly.example}\n  dana:")
    found = errors(rb_dir)
    assert any(p.message == "duplicate key" and p.field == "people.chen" for p in found)


def test_missing_template_file(rb_dir: Path) -> None:
    (rb_dir / "templates/es/update.yaml").unlink()
    found = errors(rb_dir)
    assert any(p.file == "templates/es/update.yaml" and "missing" in p.message for p in found)


def test_missing_channel_template(rb_dir: Path, edit: Edit) -> None:
    text = (rb_dir / "templates/en/resolved.yaml").read_text()
    start = text.index("  social:")
    end = text.index("technical:")
    (rb_dir / "templates/en/resolved.yaml").write_text(text[:start] + text[end:])
    found = errors(rb_dir)
    assert any(p.file == "templates/en/resolved.yaml" and "no 'social' template" in p.message for p in found)


def test_unknown_template_variable(rb_dir: Path, edit: Edit) -> None:
    edit(
        "templates/en/update.yaml",
        'Next update in {{ next_update_in }}."',
        'Next update in {{ next_update_minuts }} min."',
    )
    found = errors(rb_dir)
    (p,) = [p for p in found if "unknown variable" in p.message]
    assert p.file == "templates/en/update.yaml"
    assert p.field == "customers.sms.body"
    assert p.line == line_of(rb_dir, "templates/en/update.yaml", "next_update_minuts")


def test_template_syntax_error(rb_dir: Path, edit: Edit) -> None:
    edit("templates/es/resolved.yaml", "{{ resolved_at }}. Lamentamos", "{{ resolved_at }. Lamentamos")
    found = errors(rb_dir)
    assert any("template syntax error" in p.message and p.field == "customers.sms.body" for p in found)


def test_open_incident_customer_template_must_state_start_time(rb_dir: Path, edit: Edit) -> None:
    edit(
        "templates/en/investigating.yaml",
        "body: \"We're investigating a problem affecting {{ component_names }} since {{ started_at }}.",
        "body: \"We're investigating a problem affecting {{ component_names }}.",
    )
    (p,) = errors(rb_dir)
    assert (p.file, p.field) == ("templates/en/investigating.yaml", "customers.social.body")
    assert "start time" in p.message


def test_sms_over_budget_is_an_error(rb_dir: Path, edit: Edit) -> None:
    edit("clarion.yaml", "max_segments: 3", "max_segments: 1")
    found = errors(rb_dir)
    assert all("sms-budget: SMS takes" in p.message for p in found)
    assert any(p.file == "templates/es/investigating.yaml" and "UCS-2" in p.message for p in found)


def test_jargon_is_a_warning_for_customers_only(rb_dir: Path, edit: Edit) -> None:
    edit("templates/en/update.yaml", "Our team is still working on it.", "Our team is still fixing the DNS.")
    edit(
        "templates/en/update.yaml", "still open ({{ status|lower }})", "still open ({{ status|lower }}, DNS)"
    )  # technical: fine
    runbook, problems = validate_runbook(rb_dir)
    assert runbook is not None
    (p,) = problems
    assert p.level == "warning" and p.field == "customers.email.body" and "'DNS'" in p.message


def test_provider_name_only_on_status_page(rb_dir: Path, edit: Edit) -> None:
    edit("templates/en/identified.yaml", "We are working on a fix.", "Paybridge is working on a fix.")
    (p,) = errors(rb_dir)
    assert p.field == "customers.email.body" and "Paybridge" in p.message
    # On the status page the provider may be named:
    edit("templates/en/identified.yaml", "Paybridge is working on a fix.", "We are working on a fix.")
    edit("templates/en/identified.yaml", "We have found the cause", "We (and Paybridge) have found the cause")
    assert validate_runbook(rb_dir)[0] is not None


def test_provider_name_in_a_workaround_reaches_every_channel(rb_dir: Path, edit: Edit) -> None:
    tail = "\n      es: Los pagos por transferencia no se ven afectados.\n  - id: card-payments"
    edit(
        "components.yaml",
        "en: Bank transfer payments are not affected." + tail,
        "en: Paybridge says transfers work." + tail,
    )
    (p,) = errors(rb_dir)
    assert p.file == "components.yaml" and p.field == "components.4.workaround"


def test_every_language_for_localised_text(rb_dir: Path, edit: Edit) -> None:
    edit("components.yaml", "name: {en: Invoicing, es: Facturación}", "name: {en: Invoicing}")
    (p,) = errors(rb_dir)
    assert p.file == "components.yaml" and p.field == "components.6.name" and "es" in p.message


def test_approval_required_needs_approvers(rb_dir: Path, edit: Edit) -> None:
    edit(
        "policies.yaml",
        "      approvers: [communications_manager]\n      escalation: [incident_manager]\n      timeout: 10m",
        "      approvers: []\n      escalation: [incident_manager]\n      timeout: 10m",
    )
    (p,) = errors(rb_dir)
    assert p.field == "policies.SEV1.approval" and "no approvers" in p.message


def test_unknown_role_in_policy(rb_dir: Path, edit: Edit) -> None:
    edit(
        "policies.yaml",
        "escalation: [incident_manager]\n      timeout: 15m",
        "escalation: [incident_mgr]\n      timeout: 15m",
    )
    (p,) = errors(rb_dir)
    assert p.field == "policies.SEV2.approval.escalation.0"
    assert p.line == line_of(rb_dir, "policies.yaml", "incident_mgr")


def test_bad_regex_is_reported(rb_dir: Path, edit: Edit) -> None:
    edit("rules.yaml", "'^login-(5xx|errors)'", "'^login-(5xx|errors'")
    (p,) = errors(rb_dir)
    assert "regular expression" in p.message and p.file == "rules.yaml"


def test_load_runbook_raises_with_every_error(rb_dir: Path, edit: Edit) -> None:
    edit("rules.yaml", "components: [invoicing]", "components: [nope]")
    edit("roles.yaml", "people: [dana]", "people: [nobody]")
    with pytest.raises(RunbookError) as info:
        load_runbook(rb_dir)
    assert len(info.value.problems) == 2


def test_not_a_directory(tmp_path: Path) -> None:
    runbook, problems = validate_runbook(tmp_path / "absent")
    assert runbook is None and "not a directory" in problems[0].message


def test_a_reply_invitation_is_an_error_where_no_reply_reaches_anyone(rb_dir: Path, edit: Edit) -> None:
    edit(
        "templates/en/resolved.yaml",
        "please contact our support team.",
        "reply to this email and we will look at it with you.",
    )
    edit("templates/es/monitoring.yaml", "Ledgerly: ", "Ledgerly: responda a este mensaje. ")
    found = errors(rb_dir)
    where = {(Path(p.file).name, p.field) for p in found if "invites a reply" in p.message}
    assert where == {("resolved.yaml", "customers.email.body"), ("monitoring.yaml", "customers.sms.body")}


def test_a_reply_invitation_in_customer_email_is_fine_with_a_reply_to(rb_dir: Path, edit: Edit) -> None:
    edit(
        "templates/en/resolved.yaml",
        "please contact our support team.",
        "reply to this email and we will look at it with you.",
    )
    with (rb_dir / "clarion.yaml").open("a") as f:
        f.write(
            "\ndeliveries:\n  email:\n    recipients: [ops@ledgerly.example]\n"
            "    unsubscribe_url: https://ledgerly.example/unsubscribe\n    reply_to: support@ledgerly.example\n"
        )
    runbook, problems = validate_runbook(rb_dir)
    assert runbook is not None and not [p for p in problems if "invites a reply" in p.message]


def test_an_opening_cannot_be_pre_approved(rb_dir: Path, edit: Edit) -> None:
    edit("policies.yaml", "      on_timeout: hold\n", "      on_timeout: hold\n      pre_approved: [investigating]\n")
    (problem,) = errors(rb_dir)
    assert Path(problem.file).name == "policies.yaml" and "cannot be pre-approved" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "Reply to this email if it still fails.",
        "You can answer this email with questions.",
        "Just hit reply and tell us.",
        "Responda a este correo si algo sigue fallando.",
        "Puede responder a este correo si algo sigue fallando.",
        "Respóndanos a este mensaje con sus dudas.",
        "Contéstenos este correo con sus dudas.",
        "Si tiene dudas, puede contestar este mensaje.",
    ],
)
def test_the_reply_lint_knows_the_usual_ways_to_invite_a_reply(text: str) -> None:
    from clarion.domain.runbooks.lint import REPLY_INVITATION

    assert REPLY_INVITATION.search(text), text


@pytest.mark.parametrize(
    "text",
    [
        "If something still does not work for you, please contact our support team.",
        "Si algo sigue sin funcionar, comuníquese con nuestro equipo de soporte.",
        "Responderemos a todas las consultas en el centro de ayuda.",
        "We will respond to the problem as fast as we can.",
    ],
)
def test_the_reply_lint_leaves_other_texts_alone(text: str) -> None:
    from clarion.domain.runbooks.lint import REPLY_INVITATION

    assert not REPLY_INVITATION.search(text), text
