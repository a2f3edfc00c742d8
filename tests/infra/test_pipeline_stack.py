"""The CDK app, synthesized once per session (about 5 s), with cdk-nag on and bundling skipped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk.assertions import Match, Template
from clarion.adapters.dynamodb_store import table_definition
from clarion.domain.errors import RunbookError

from tests.conftest import RUNBOOKS, synth


@pytest.fixture(scope="session")
def synthesized(assembly: tuple[Any, Path]) -> tuple[Template, Path]:
    stack = assembly[0].get_stack_by_name("Clarion-prod-Pipeline")
    return Template.from_json(stack.template), assembly[1] / stack.template_file


@pytest.fixture(scope="session")
def page_primary(assembly: tuple[Any, Path]) -> Template:
    return Template.from_json(assembly[0].get_stack_by_name("Clarion-prod-StatusPage-us-west-2").template)


@pytest.fixture(scope="session")
def page_replica(assembly: tuple[Any, Path]) -> Template:
    return Template.from_json(assembly[0].get_stack_by_name("Clarion-prod-StatusPage-eu-west-1").template)


@pytest.fixture(scope="session")
def template(synthesized: tuple[Template, Path]) -> Template:
    return synthesized[0]


def resources(template: Template, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(kind)
    return found


def test_cdk_nag_has_no_unacknowledged_findings(synthesized: tuple[Template, Path]) -> None:
    report = json.loads((synthesized[1].parent / "validation-report.json").read_text())
    assert all(not plugin.get("violations") for plugin in report.get("pluginReports", []))


def test_cfn_lint_reports_no_errors(assembly: tuple[Any, Path]) -> None:
    templates = sorted(str(p) for p in assembly[1].glob("*.template.json"))
    assert len(templates) == 3
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", *templates],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ":E" in line]
    assert result.returncode & 2 == 0 and not errors, result.stdout


def test_event_rule_matches_alarm_state_changes_only(template: Template) -> None:
    from clarion.domain.runbooks.event_filter import alarm_event_detail
    from clarion.runbook_loader import load_runbook

    detail = alarm_event_detail(load_runbook(RUNBOOKS))
    assert detail is not None  # the sample rules all narrow: unmatched alarms never invoke the intake
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "detail": detail,
            },
            "Targets": [
                Match.object_like(
                    {
                        "DeadLetterConfig": Match.any_value(),
                        "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 7200},
                    }
                )
            ],
        },
    )


def test_alarm_action_permission(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Principal": "lambda.alarms.cloudwatch.amazonaws.com",
            "Action": "lambda:InvokeFunction",
            "SourceAccount": {"Ref": "AWS::AccountId"},
        },
    )


def test_intake_function_settings(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "clarion.handlers.intake.lambda_handler",
            "Runtime": "python3.14",
            "TracingConfig": {"Mode": "Active"},
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "RUNBOOK_PATH": "/var/task/runbooks",
                        "TABLE_NAME": Match.any_value(),
                        "STATE_MACHINE_ARN": Match.any_value(),
                    }
                )
            },
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"MaximumRetryAttempts": 2, "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}}},
    )


def test_incident_table_matches_the_adapter(template: Template) -> None:
    wanted = table_definition("x")
    tables = resources(template, "AWS::DynamoDB::GlobalTable")
    (incidents,) = [t for t in tables.values() if len(t["Properties"]["KeySchema"]) == 2]
    props = incidents["Properties"]
    assert props["KeySchema"] == wanted["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        wanted["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    assert props["GlobalSecondaryIndexes"][0]["KeySchema"] == wanted["GlobalSecondaryIndexes"][0]["KeySchema"]
    assert props["Replicas"][0]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["Replicas"][0]["DeletionProtectionEnabled"] is True
    assert incidents["DeletionPolicy"] == "Retain"


def test_state_machine_from_the_asl_file_with_logging_and_tracing(template: Template) -> None:
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like({"Level": "ALL"}),
            "DefinitionS3Location": Match.any_value(),
        },
    )


def test_intake_may_start_only_this_state_machine(template: Template) -> None:
    policies = resources(template, "AWS::IAM::Policy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    starts = [s for s in statements if "states:StartExecution" in json.dumps(s["Action"])]
    assert starts and all(
        s["Resource"] == {"Ref": Match.any_value()} or "Ref" in json.dumps(s["Resource"]) for s in starts
    )
    assert not any(s["Resource"] == "*" and "dynamodb" in json.dumps(s["Action"]) for s in statements)


def test_pipeline_watches_itself(template: Template) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    names = sorted(a["Properties"]["AlarmName"] for a in alarms.values())
    assert names == sorted(
        f"Clarion-prod-{n}"
        for n in (
            "IntakeDeadLetters",
            "DeliveriesDeadLetters",
            "IntakeErrors",
            "IntakeThrottles",
            "StepsErrors",
            "StepsThrottles",
            "ApprovalsErrors",
            "ApprovalsThrottles",
            "SubscriptionsErrors",
            "SubscriptionsThrottles",
            "PageMetricsErrors",
            "PageMetricsThrottles",
            "FeedbackErrors",
            "FeedbackThrottles",
            "WorkflowFailed",
            "WorkflowTimedOut",
        )
    )
    assert all(a["Properties"]["AlarmActions"] for a in alarms.values())
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})


def test_queues_are_encrypted_and_tls_only(template: Template) -> None:
    template.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_broken_runbook_fails_the_synth(tmp_path: Path) -> None:
    broken = tmp_path / "rb"
    shutil.copytree(RUNBOOKS, broken)
    rules = broken / "rules.yaml"
    rules.write_text(rules.read_text().replace("components: [invoicing]", "components: [nope]"))
    with pytest.raises(RunbookError) as info:
        synth(tmp_path / "out", runbook_path=str(broken))
    assert any("rules.yaml:" in p and "unknown component 'nope'" in p for p in info.value.problems)


def test_bad_configuration_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="region"):
        synth(tmp_path / "out", region="mars")


def _function(template: Template, handler: str) -> dict[str, Any]:
    (fn,) = [f for f in resources(template, "AWS::Lambda::Function").values() if f["Properties"]["Handler"] == handler]
    return fn


def test_state_machine_calls_the_steps_function(template: Template) -> None:
    (sm,) = resources(template, "AWS::StepFunctions::StateMachine").values()
    assert set(sm["Properties"]["DefinitionSubstitutions"]) == {"StepsFunctionArn"}
    assert sm["Properties"]["StateMachineName"] == "Clarion-prod-incident"


def test_steps_function_environment_is_what_the_runtime_reads(template: Template) -> None:
    from clarion.handlers.runtime import WorkflowEnv

    env = _function(template, "clarion.handlers.workflow_steps.lambda_handler")["Properties"]["Environment"][
        "Variables"
    ]
    required = {f.alias for f in WorkflowEnv.model_fields.values() if f.is_required()}
    assert required <= set(env), required - set(env)


def test_approval_endpoint_is_a_function_url_and_decides_only_for_this_state_machine(template: Template) -> None:
    template.has_resource_properties("AWS::Lambda::Url", {"AuthType": "NONE"})
    statements = [
        st
        for p in resources(template, "AWS::IAM::Policy").values()
        for st in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    send = [st for st in statements if "states:SendTaskSuccess" in json.dumps(st["Action"])]
    assert send and all("stateMachine:Clarion-prod-incident" in json.dumps(st["Resource"]) for st in send)
    assert not any(st["Resource"] == "*" for st in send)


def test_three_stacks_in_their_regions(assembly: tuple[Any, Path]) -> None:
    regions = {s.stack_name: s.environment.region for s in assembly[0].stacks}
    assert regions == {
        "Clarion-prod-Pipeline": "us-east-1",
        "Clarion-prod-StatusPage-us-west-2": "us-west-2",
        "Clarion-prod-StatusPage-eu-west-1": "eu-west-1",
    }


def test_page_buckets_are_versioned_private_logged_and_named(page_primary: Template, page_replica: Template) -> None:
    for template, region in ((page_primary, "us-west-2"), (page_replica, "eu-west-1")):
        template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "BucketName": {"Fn::Join": ["", ["clarion-prod-page-", {"Ref": "AWS::AccountId"}, f"-{region}"]]},
                "VersioningConfiguration": {"Status": "Enabled"},
                "PublicAccessBlockConfiguration": Match.object_like({"BlockPublicPolicy": True}),
                "LoggingConfiguration": Match.any_value(),
                # Replaced page versions expire (cdk.json leaves page_noncurrent_days at its default).
                "LifecycleConfiguration": {
                    "Rules": [
                        Match.object_like({"Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}})
                    ]
                },
            },
        )


def test_cloudfront_fails_over_to_the_replica_through_oac(page_primary: Template, page_replica: Template) -> None:
    (dist,) = resources(page_primary, "AWS::CloudFront::Distribution").values()
    config = dist["Properties"]["DistributionConfig"]
    (group,) = config["OriginGroups"]["Items"]
    assert group["FailoverCriteria"]["StatusCodes"]["Items"] == [500, 502, 503, 504]
    assert len(config["Origins"]) == 2 and all("OriginAccessControlId" in o for o in config["Origins"])
    assert "eu-west-1" in json.dumps(config["Origins"][1]["DomainName"])
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    page_primary.resource_count_is("AWS::CloudFront::OriginAccessControl", 2)
    policy = json.dumps(resources(page_replica, "AWS::S3::BucketPolicy"))
    assert "cloudfront.amazonaws.com" in policy and "distribution/*" in policy


def test_embeds_and_api_are_served_with_cors_and_the_pages_are_not(page_primary: Template) -> None:
    (dist,) = resources(page_primary, "AWS::CloudFront::Distribution").values()
    config = dist["Properties"]["DistributionConfig"]
    # The managed policy "CORS-with-preflight-and-SecurityHeadersPolicy" (any origin, no credentials).
    cors_policy = "eaab4381-ed33-4a86-88ca-d9558dc6cd63"
    by_path = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    for path in ("api/*", "embed/*", "badge.svg", "badges/*", "*/badge.svg", "*/badges/*"):
        assert by_path[path]["ResponseHeadersPolicyId"] == cors_policy, path
        assert by_path[path]["ViewerProtocolPolicy"] == "redirect-to-https"
        assert by_path[path]["AllowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] != cors_policy


def test_pipeline_publishes_to_every_page_region(template: Template) -> None:
    env = _function(template, "clarion.handlers.workflow_steps.lambda_handler")["Properties"]["Environment"][
        "Variables"
    ]
    targets = json.dumps(env["PAGE_TARGETS"])
    assert "us-west-2" in targets and "eu-west-1" in targets


def test_subscriptions_endpoint(template: Template) -> None:
    urls = resources(template, "AWS::Lambda::Url")
    assert len(urls) == 3 and all(u["Properties"]["AuthType"] == "NONE" for u in urls.values())
    env = _function(template, "clarion.handlers.subscriptions.lambda_handler")["Properties"]["Environment"]["Variables"]
    assert {"TOPIC_CUSTOMERS", "TABLE_NAME", "HMAC_SECRET_ID", "RUNBOOK_PATH"} <= set(env)
    statements = [
        st
        for p in resources(template, "AWS::IAM::Policy").values()
        for st in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    subscribe = [st for st in statements if st["Action"] == "sns:Subscribe"]
    assert len(subscribe) == 1 and "Ref" in json.dumps(subscribe[0]["Resource"])


def test_configured_deliveries_get_only_their_permissions(tmp_path: Path) -> None:
    rb = tmp_path / "rb"
    shutil.copytree(RUNBOOKS, rb)
    settings = rb / "clarion.yaml"
    settings.write_text(
        settings.read_text()
        + (
            "\ndeliveries:\n  push: {application_id: abc123, addresses: {tok: APNS}}\n"
            "  whatsapp: {phone_number_id: pn-1, template: incident_update, recipients: ['+12025550101']}\n"
            "  webhooks: [{name: ops, kind: slack, audience: technical, url_secret: clarion/slack-ops}]\n"
            "  mastodon: {instance_url: 'https://mastodon.example', token_secret: clarion/mastodon-token}\n"
            "  bluesky: {handle: status.example.com, app_password_secret: clarion/bluesky-app-password}\n"
        )
    )
    # One more synthesis covers the other settings too: a custom page domain, no URL reservation.
    assembly, _ = synth(
        tmp_path / "out",
        runbook_path=str(rb),
        page_domain="status.example.com",
        page_certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc",
        function_url_concurrency=0,
    )
    pipeline = assembly.get_stack_by_name("Clarion-prod-Pipeline").template
    text = json.dumps(pipeline)
    assert "mobiletargeting:SendMessages" in text and "apps/abc123/messages" in text
    assert "social-messaging:SendWhatsAppMessage" in text and "phone-number-id/pn-1" in text
    # The social networks' credentials, each by name, read-only.
    assert "secret:clarion/mastodon-token-*" in text and "secret:clarion/bluesky-app-password-*" in text
    assert "secret:clarion/slack-ops-*" in text
    assert "sms-voice:SendVoiceMessage" not in text  # voice is not configured
    assert "sms-voice:SendTextMessage" not in text  # nor SMS: not even for subscription codes
    functions = [r for r in pipeline["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert not any("ReservedConcurrentExecutions" in f["Properties"] for f in functions)
    unreserved = [f for f in functions if "CKV_AWS_115" in json.dumps(f.get("Metadata", {}))]
    assert len(unreserved) == 6  # each says why (three by design, three because the setting is off)
    page = assembly.get_stack_by_name("Clarion-prod-StatusPage-us-west-2").template
    (distribution,) = [r for r in page["Resources"].values() if r["Type"] == "AWS::CloudFront::Distribution"]
    viewer = distribution["Properties"]["DistributionConfig"]["ViewerCertificate"]
    assert viewer["MinimumProtocolVersion"] == "TLSv1.2_2021" and viewer["SslSupportMethod"] == "sni-only"
    assert "CKV_AWS_174" not in json.dumps(distribution.get("Metadata", {}))


def test_default_certificate_policy_is_stated(page_primary: Template) -> None:
    (distribution,) = resources(page_primary, "AWS::CloudFront::Distribution").values()
    assert "ViewerCertificate" not in distribution["Properties"]["DistributionConfig"]  # CloudFront's own: TLSv1
    (skip,) = [s for s in distribution["Metadata"]["checkov"]["skip"] if s["id"] == "CKV_AWS_174"]
    assert "TLSv1" in skip["comment"] and "page_domain" in skip["comment"]


def test_public_function_urls_have_reserved_concurrency(template: Template) -> None:
    for handler in (
        "clarion.handlers.approval_api.lambda_handler",
        "clarion.handlers.subscriptions.lambda_handler",
        "clarion.handlers.feedback_api.lambda_handler",
    ):
        assert _function(template, handler)["Properties"]["ReservedConcurrentExecutions"] == 10
    intake = _function(template, "clarion.handlers.intake.lambda_handler")["Properties"]
    assert "ReservedConcurrentExecutions" not in intake


def test_alarm_topic_key_is_usable_by_this_accounts_alarms_only(template: Template) -> None:
    keys = resources(template, "AWS::KMS::Key").values()
    cloudwatch = [
        st
        for key in keys
        for st in key["Properties"]["KeyPolicy"]["Statement"]
        if st.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"
    ]
    assert cloudwatch and all(
        st["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"} for st in cloudwatch
    )


def test_no_function_may_scan_batch_or_read_streams(template: Template) -> None:
    text = json.dumps([p["Properties"]["PolicyDocument"] for p in resources(template, "AWS::IAM::Policy").values()])
    for action in ("dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:GetRecords", "secretsmanager:DescribeSecret"):
        assert action not in text


def test_metrics_function_runs_every_five_minutes_with_only_its_permissions(template: Template) -> None:
    from clarion.handlers.page_metrics import MetricsEnv

    fn = _function(template, "clarion.handlers.page_metrics.lambda_handler")
    env = fn["Properties"]["Environment"]["Variables"]
    assert {f.alias for f in MetricsEnv.model_fields.values() if f.is_required()} <= set(env)
    assert "us-west-2" in json.dumps(env["PAGE_TARGETS"]) and "eu-west-1" in json.dumps(env["PAGE_TARGETS"])
    (rule,) = [r for r in resources(template, "AWS::Events::Rule").values() if "ScheduleExpression" in r["Properties"]]
    assert rule["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        st
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for st in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = sorted(
        {a for st in statements for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    )
    assert actions == [
        "cloudwatch:GetMetricData",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    ]
    s3 = [st for st in statements if "s3:PutObject" in json.dumps(st["Action"])]
    assert all("-page-" in json.dumps(st["Resource"]) for st in s3)


def test_feedback_endpoint_has_reserved_concurrency_and_reaches_the_pages(template: Template) -> None:
    fn = _function(template, "clarion.handlers.feedback_api.lambda_handler")["Properties"]
    assert fn["ReservedConcurrentExecutions"] == 10  # a flood cannot take the pipeline's concurrency
    assert {"TABLE_NAME", "HMAC_SECRET_ID", "RUNBOOK_PATH"} <= set(fn["Environment"]["Variables"])
    steps = _function(template, "clarion.handlers.workflow_steps.lambda_handler")["Properties"]
    feedback_url = steps["Environment"]["Variables"]["FEEDBACK_URL"]
    assert "Fn::GetAtt" in json.dumps(feedback_url) and "FunctionUrl" in json.dumps(feedback_url)
    assert "FeedbackUrl" in template.to_json()["Outputs"]
