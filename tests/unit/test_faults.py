"""The fault specification people type after ``--fault``, and what an injected fault looks like to
the code that made the call."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from clarion.adapters.aws_errors import is_transient
from clarion.local.faults import Fault, FaultInjector, FaultSpecError
from moto import mock_aws


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3.PutObject=500x1@5", Fault("s3", "PutObject", "500", 1, 5)),
        ("sns.Publish=throttle", Fault("sns", "Publish", "throttle", 1, 1)),
        ("dynamodb.UpdateItem=connectionx3", Fault("dynamodb", "UpdateItem", "connection", 3, 1)),
        ("stepfunctions.SendTaskSuccess=throttle@2", Fault("stepfunctions", "SendTaskSuccess", "throttle", 1, 2)),
    ],
)
def test_a_fault_spec_reads_as_written(text: str, expected: Fault) -> None:
    assert Fault.parse(text) == expected
    assert Fault.parse(str(expected)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("s3.PutObject", "expected SERVICE.OPERATION=ERROR"),
        ("s3.putObject=500", "expected SERVICE.OPERATION=ERROR"),
        ("s3.PutObject=404", "ERROR must be one of 500, throttle, connection"),
        ("s3.PutObject=500x0", "COUNT and NTH start at 1"),
        ("s3.PutObject=500@0", "COUNT and NTH start at 1"),
    ],
)
def test_a_bad_fault_spec_says_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(FaultSpecError, match=reason):
        Fault.parse(text)


def test_faults_hit_the_nth_call_count_times_then_stop() -> None:
    injector = FaultInjector.from_specs(["sns.Publish=throttlex2@2", "sns.ListTopics=connection"])
    outcomes = []
    with mock_aws():
        sns = injector.attach(boto3.client("sns", region_name="us-east-1"), "sns")
        topic = sns.create_topic(Name="t")["TopicArn"]
        for _ in range(4):
            try:
                sns.publish(TopicArn=topic, Message="x")
                outcomes.append("ok")
            except ClientError as exc:
                assert is_transient(exc) and exc.response["Error"]["Code"] == "Throttling"
                outcomes.append("throttled")
        with pytest.raises(EndpointConnectionError) as conn:
            sns.list_topics()
        assert is_transient(conn.value)
    assert outcomes == ["ok", "throttled", "throttled", "ok"]
    assert [i.call for i in injector.injected] == [2, 3, 1]
    assert injector.summary()["calls"] == {"sns.ListTopics": 1, "sns.Publish": 4}


def test_an_s3_fault_answers_like_s3() -> None:
    injector = FaultInjector.from_specs(["s3.PutObject=throttle", "s3.GetObject=500"])
    s3 = injector.attach(boto3.client("s3", region_name="us-east-1"), "s3")
    with pytest.raises(ClientError) as slow:
        s3.put_object(Bucket="b", Key="k", Body=b"x")
    with pytest.raises(ClientError) as internal:
        s3.get_object(Bucket="b", Key="k")
    assert slow.value.response["Error"]["Code"] == "SlowDown"
    assert slow.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert internal.value.response["Error"]["Code"] == "InternalError" and is_transient(internal.value)


def test_a_client_of_another_service_is_left_alone() -> None:
    injector = FaultInjector.from_specs(["s3.PutObject=500"])
    sns = boto3.client("sns", region_name="us-east-1")
    assert injector.attach(sns, "sns") is sns and not injector.calls


def test_a_throttled_secret_read_is_transient_through_the_powertools_wrapper() -> None:
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    injector = FaultInjector.from_specs(["secretsmanager.GetSecretValue=throttle"])
    with mock_aws():
        client = injector.attach(boto3.client("secretsmanager", region_name="us-east-1"), "secretsmanager")
        client.create_secret(Name="k", SecretString="x" * 40)
        provider = parameters.SecretsProvider(boto3_client=client)
        with pytest.raises(parameters.exceptions.GetParameterError) as wrapped:
            provider.get("k")
        assert is_transient(wrapped.value)  # ThrottlingException inside Powertools' own error
        assert provider.get("k") == "x" * 40
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def test_a_channels_verdict_decides_and_clarions_own_errors_are_final() -> None:
    from clarion.domain.errors import ChannelError, NotFound
    from clarion.domain.workflow.service import ChannelFailed

    throttled = ClientError({"Error": {"Code": "Throttling"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "Publish")
    assert is_transient(ChannelError("SES send_email: Throttling", transient=True))
    assert not is_transient(ChannelError("no topic", transient=False))
    try:
        try:
            raise throttled
        except ClientError as exc:
            raise ChannelFailed("sns:customers: gave up after 4 attempts") from exc
    except ChannelFailed as final:
        assert not is_transient(final)  # the channel already retried: its verdict stands
    try:
        try:
            raise throttled
        except ClientError:
            raise NotFound("no draft") from None
    except NotFound as gone:
        assert not is_transient(gone)
    assert not is_transient(ValueError("bad input"))
