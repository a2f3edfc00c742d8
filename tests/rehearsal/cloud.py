"""The synthesized templates made real in moto: every resource a function touches is created from
its template properties, and every intrinsic (Ref, Fn::GetAtt, Fn::Join, ...) resolves to the ARN or
name the emulator gave it. Environment variables, IAM policies and the state machine definition are
then exactly the template's, with the emulator's names in them.

Resources are created on first reference (so dependencies come first); types no function calls at
run time (alarms, dashboards, permissions, rules) are never created."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18  # moto's Lambda never runs code; CreateFunction needs an archive
PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}


class TemplateCloud:
    """``client(service, region)`` gives an unauthenticated boto3 client of the emulator."""

    def __init__(
        self, template: dict[str, Any], region: str, client: Callable[[str, str], Any], assets: Path | None = None
    ) -> None:
        self.assets = assets  # the cloud assembly directory, for file assets (the ASL)
        self.resources: dict[str, dict[str, Any]] = template["Resources"]
        self.region = region
        self.client = client
        self.created: dict[str, dict[str, Any]] = {}  # logical id -> {"Ref": ..., attributes...}

    # -- intrinsics ---------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (fn, arg), *_ = value.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::GetAtt":
                return self.attribute(arg[0], arg[1])
            if fn == "Fn::Join":
                return arg[0].join(str(self.resolve(part)) for part in arg[1])
            if fn == "Fn::Select":
                return self.resolve(arg[1])[int(arg[0])]
            if fn == "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
        return {k: self.resolve(v) for k, v in value.items()}

    def ref(self, name: str) -> Any:
        if name == "AWS::Region":
            return self.region
        if name in PSEUDO:
            return PSEUDO[name]
        return self.create(name)["Ref"]

    def attribute(self, name: str, attribute: str) -> Any:
        made = self.create(name)
        if attribute not in made:
            raise KeyError(f"{name}.{attribute} is not modelled in the rehearsal")
        return made[attribute]

    def of_type(self, kind: str) -> list[str]:
        return [name for name, r in self.resources.items() if r["Type"] == kind]

    # -- resources ----------------------------------------------------------------------------
    def create(self, name: str) -> dict[str, Any]:
        if name in self.created:
            return self.created[name]
        resource = self.resources[name]
        maker = getattr(self, "_" + resource["Type"].replace("::", "_"), None)
        if maker is None:
            raise KeyError(f"{name} ({resource['Type']}) is not modelled in the rehearsal")
        self.created[name] = maker(name, resource.get("Properties", {}))
        return self.created[name]

    def _AWS_DynamoDB_GlobalTable(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        table = p.get("TableName", name)
        args: dict[str, Any] = {
            "TableName": table,
            "KeySchema": p["KeySchema"],
            "AttributeDefinitions": p["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if p.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = [
                {k: g[k] for k in ("IndexName", "KeySchema", "Projection")} for g in p["GlobalSecondaryIndexes"]
            ]
        arn = self.client("dynamodb", self.region).create_table(**args)["TableDescription"]["TableArn"]
        return {"Ref": table, "Arn": arn}

    def _AWS_SNS_Topic(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        arn = self.client("sns", self.region).create_topic(Name=p.get("TopicName", name))["TopicArn"]
        return {"Ref": arn, "TopicArn": arn, "TopicName": arn.rsplit(":", 1)[1]}

    def _AWS_SQS_Queue(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        sqs = self.client("sqs", self.region)
        url = sqs.create_queue(QueueName=p.get("QueueName", name))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {"Ref": url, "Arn": arn, "QueueUrl": url, "QueueName": url.rsplit("/", 1)[1]}

    def _AWS_SecretsManager_Secret(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        arn = self.client("secretsmanager", self.region).create_secret(Name=p.get("Name", name), SecretString="k" * 64)[
            "ARN"
        ]
        return {"Ref": arn}

    def _AWS_KMS_Key(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        meta = self.client("kms", self.region).create_key(Description=p.get("Description", name))["KeyMetadata"]
        return {"Ref": meta["KeyId"], "Arn": meta["Arn"], "KeyId": meta["KeyId"]}

    def _AWS_IAM_Role(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        trust = json.dumps(self.resolve(p["AssumeRolePolicyDocument"]))
        arn = self.client("iam", self.region).create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        return {"Ref": name, "Arn": arn}

    def _AWS_Lambda_Function(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        fn = self.client("lambda", self.region).create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.resolve(p["Role"]),
            Handler=p["Handler"],
            Code={"ZipFile": EMPTY_ZIP},
        )
        return {"Ref": name, "Arn": fn["FunctionArn"]}

    def _AWS_Lambda_Url(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        url = f"https://{name.lower()}.lambda-url.{self.region}.on.aws/"
        return {"Ref": url, "FunctionUrl": url}

    def _AWS_Logs_LogGroup(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        arn = f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{name}:*"
        return {"Ref": name, "Arn": arn}

    def _AWS_StepFunctions_StateMachine(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        arn = self.client("stepfunctions", self.region).create_state_machine(
            name=p.get("StateMachineName", name),
            definition=self.definition(p),
            roleArn=self.resolve(p["RoleArn"]),
        )["stateMachineArn"]
        return {"Ref": arn, "Arn": arn, "Name": arn.rsplit(":", 1)[1]}

    def _AWS_S3_Bucket(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        bucket = self.resolve(p.get("BucketName", name.lower()))
        s3 = self.client("s3", self.region)
        where = {"LocationConstraint": self.region}
        s3.create_bucket(Bucket=bucket, **({} if self.region == "us-east-1" else {"CreateBucketConfiguration": where}))
        return {"Ref": bucket, "Arn": f"arn:aws:s3:::{bucket}"}

    def definition(self, p: dict[str, Any]) -> str:
        """The state machine's ASL as deployed: the file asset with its substitutions made."""
        if "DefinitionString" in p:
            text = str(self.resolve(p["DefinitionString"]))
        else:
            if self.assets is None:
                raise ValueError("the definition is a file asset: pass the cloud assembly directory")
            text = (self.assets / f"asset.{p['DefinitionS3Location']['Key']}").read_text()
        for key, value in p.get("DefinitionSubstitutions", {}).items():
            text = text.replace("${" + key + "}", str(self.resolve(value)))
        return text

    # -- what functions see -------------------------------------------------------------------
    def functions(self) -> dict[str, dict[str, Any]]:
        return {name: self.resources[name] for name in self.of_type("AWS::Lambda::Function")}

    def environment(self, function: str) -> dict[str, str]:
        variables = self.resources[function]["Properties"].get("Environment", {}).get("Variables", {})
        return {k: str(self.resolve(v)) for k, v in variables.items()}

    def role_of(self, function: str) -> str:
        role = self.resources[function]["Properties"]["Role"]
        return str(role["Fn::GetAtt"][0])

    def statements(self, role: str) -> list[tuple[str, dict[str, Any]]]:
        """(policy logical id, statement) of every inline policy attached to ``role``, resolved."""
        found = []
        for name in self.of_type("AWS::IAM::Policy"):
            props = self.resources[name]["Properties"]
            if {"Ref": role} in props.get("Roles", []):
                found += [(name, self.resolve(s)) for s in props["PolicyDocument"]["Statement"]]
        return found
