"""Checks on template.yaml after the SAM transform, offline.

Run by tests/package-check with the packaging venv's Python (it has
aws-sam-translator). cfn-lint and `sam validate` say the template is valid;
these say it is the stack sheetsync needs: least-privilege IAM, FIFO delivery,
the routes the Apps Script calls, and environment variable names the
functions' code actually reads.
"""

import json
import os
import pathlib
import re
import sys
import traceback

# The transform asks boto3 for a region; give it one so nothing looks further.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]

PARAMS = {
    "DbHost": "db.example.internal",
    "DbName": "app",
    "DbUser": "sheetsync",
    "DbSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
    "SpreadsheetId": "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "TableName": "public.orders",
    "WebhookSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hook-AbCdEf",
    "GoogleServiceAccountSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:gsa-AbCdEf",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "sheetsync",
    "AWS::URLSuffix": "amazonaws.com",
}


class NoManagedPolicies:
    """The template names no managed policy by name, so SAM must not need
    IAM's list of them (which would be a call to AWS)."""

    def load(self):
        raise AssertionError("the SAM transform asked IAM for managed policies")


def load_cfn():
    sam = yaml_parse((ROOT / "template.yaml").read_text())
    packaged = yaml_parse((ROOT / "template.yaml").read_text())
    # What `sam package` does: local CodeUri -> the uploaded artifact.
    for res in packaged["Resources"].values():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = "s3://artifacts/" + props["CodeUri"].replace("/", "-") + ".zip"
    return sam, transform(packaged, dict(PARAMS), NoManagedPolicies())


SAM, CFN = load_cfn()
RES = CFN["Resources"]
FUNCTIONS = {
    "sheet-webhook": "SheetWebhookFunction",
    "outbox-relay": "OutboxRelayFunction",
    "sheet-writer": "SheetWriterFunction",
}
ROLES = {"SheetWebhookFunction": "WebhookRole", "OutboxRelayFunction": "RelayRole", "SheetWriterFunction": "WriterRole"}


def of_type(kind):
    return {k: v for k, v in RES.items() if v["Type"] == kind}


def statements(role_id):
    """Every statement of a role's inline policies, with Fn::If branches
    flattened (both branches count: least privilege must hold either way)."""
    out = []

    def walk(s):
        if isinstance(s, dict) and "Fn::If" in s:
            for branch in s["Fn::If"][1:]:
                walk(branch)
        elif isinstance(s, dict) and "Effect" in s:
            out.append(s)

    for policy in RES[role_id]["Properties"].get("Policies", []):
        for s in policy["PolicyDocument"]["Statement"]:
            walk(s)
    return out


def as_list(x):
    return x if isinstance(x, list) else [x]


def grants(role_id, action):
    return [s for s in statements(role_id) if action in as_list(s["Action"])]


def test_three_functions_on_provided_al2023_with_json_logs():
    fns = of_type("AWS::Lambda::Function")
    assert sorted(fns) == sorted(FUNCTIONS.values()), sorted(fns)
    for name, fn in fns.items():
        p = fn["Properties"]
        assert p["Runtime"] == "provided.al2023", name
        assert p["Handler"] == "bootstrap", name
        assert p["Architectures"] == [{"Ref": "Architecture"}], name
        assert p["MemorySize"] == (256 if name == "SheetWebhookFunction" else 128), name
        assert p["LoggingConfig"]["LogFormat"] == "JSON", name
        assert p["LoggingConfig"]["LogGroup"] == {"Ref": name.replace("SheetWebhookFunction", "WebhookLogGroup")
                                                  .replace("OutboxRelayFunction", "RelayLogGroup")
                                                  .replace("SheetWriterFunction", "WriterLogGroup")}, name
        assert p["TracingConfig"] == {"Mode": {"Fn::If": ["TracingEnabled", "Active", "PassThrough"]}}, name
        assert p["Role"] == {"Fn::GetAtt": [ROLES[name], "Arn"]}, name
    assert SAM["Parameters"]["Architecture"]["Default"] == "arm64"


def test_functions_build_with_cargo_lambda():
    for binary, logical in FUNCTIONS.items():
        meta = SAM["Resources"][logical]["Metadata"]
        assert meta["BuildMethod"] == "rust-cargolambda", logical
        assert meta["BuildProperties"] == {"Binary": binary}, logical
        assert SAM["Resources"][logical]["Properties"]["CodeUri"] == f"functions/{binary}", logical


def test_only_the_relay_sends_to_the_queue():
    senders = [r for r in ROLES.values() if grants(r, "sqs:SendMessage")]
    assert senders == ["RelayRole"], senders
    (s,) = grants("RelayRole", "sqs:SendMessage")
    assert s["Resource"] == {"Fn::GetAtt": ["SyncQueue", "Arn"]}


def test_only_the_writer_consumes_the_queue():
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
        holders = [r for r in ROLES.values() if grants(r, action)]
        assert holders == ["WriterRole"], (action, holders)
    (s,) = grants("WriterRole", "sqs:ReceiveMessage")
    assert s["Resource"] == {"Fn::GetAtt": ["SyncQueue", "Arn"]}


def test_each_function_reads_only_its_own_secrets():
    previous = {"Fn::If": ["HasPreviousWebhookSecret", {"Ref": "WebhookPreviousSecretArn"}, {"Ref": "AWS::NoValue"}]}
    want = {
        "WebhookRole": [{"Ref": "DbSecretArn"}, {"Ref": "WebhookSecretArn"}, previous],
        "RelayRole": [{"Ref": "DbSecretArn"}],
        "WriterRole": [{"Ref": "GoogleServiceAccountSecretArn"}],
    }
    for role, arns in want.items():
        (s,) = grants(role, "secretsmanager:GetSecretValue")
        assert as_list(s["Resource"]) == arns, (role, s["Resource"])


def test_no_wildcard_resource_except_xray():
    for role in list(ROLES.values()) + ["RdsInvokeRelayRole"]:
        for s in statements(role):
            if s["Resource"] == "*":
                assert sorted(as_list(s["Action"])) == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], (role, s)
            for a in as_list(s["Action"]):
                assert "*" not in a, (role, a)


def test_no_managed_policy_but_eni_access_in_a_vpc():
    eni = {"Fn::If": ["InVpc", [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaENIManagementAccess"}], {"Ref": "AWS::NoValue"}]}
    for role in ROLES.values():
        got = RES[role]["Properties"].get("ManagedPolicyArns")
        if role == "WriterRole":
            assert got is None, got
        else:
            assert got == eni, (role, got)
    assert "VpcConfig" not in RES["SheetWriterFunction"]["Properties"]


def test_fifo_queue_with_dead_letter_queue():
    q = RES["SyncQueue"]["Properties"]
    assert q["FifoQueue"] is True and q["ContentBasedDeduplication"] is False
    assert q["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["SyncDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "MaxReceiveCount"},
    }
    assert q["VisibilityTimeout"] >= 6 * RES["SheetWriterFunction"]["Properties"]["Timeout"]
    d = RES["SyncDeadLetterQueue"]["Properties"]
    assert d["FifoQueue"] is True and d["ContentBasedDeduplication"] is False


def test_writer_event_source():
    esms = of_type("AWS::Lambda::EventSourceMapping")
    assert len(esms) == 1, esms
    (m,) = esms.values()
    p = m["Properties"]
    assert p["EventSourceArn"] == {"Fn::GetAtt": ["SyncQueue", "Arn"]}
    assert p["FunctionName"] == {"Ref": "SheetWriterFunction"}
    assert p["BatchSize"] == 10
    assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_webhook_routes():
    body = RES["HttpApi"]["Properties"]["Body"]
    keys = sorted(f"{m.upper()} {p}" for p, ms in body["paths"].items() for m in ms)
    assert keys == ["POST /sync_gsheet", "POST /sync_postgres"], keys
    for p in body["paths"].values():
        uri = p["post"]["x-amazon-apigateway-integration"]["uri"]
        assert "SheetWebhookFunction.Arn" in json.dumps(uri), uri
    out = CFN["Outputs"]["WebhookUrl"]["Value"]
    assert out == {"Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/sync_postgres"}, out


def test_throttling_by_parameter_on_both_routes():
    """Rate and burst at the edge, by parameter: every route by default, and
    the whole-table push tighter (docs/security.md, abuse limits)."""
    stages = of_type("AWS::ApiGatewayV2::Stage")
    assert len(stages) == 1, list(stages)
    props = next(iter(stages.values()))["Properties"]
    assert props["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurstLimit"},
        "ThrottlingRateLimit": {"Ref": "ApiThrottleRateLimit"},
    }, props["DefaultRouteSettings"]
    assert props["RouteSettings"] == {
        "POST /sync_gsheet": {
            "ThrottlingBurstLimit": {"Ref": "PushThrottleBurstLimit"},
            "ThrottlingRateLimit": {"Ref": "PushThrottleRateLimit"},
        }
    }, props["RouteSettings"]
    for name in ["ApiThrottleRateLimit", "ApiThrottleBurstLimit", "PushThrottleRateLimit", "PushThrottleBurstLimit"]:
        p = SAM["Parameters"][name]
        assert p["Type"] == "Number" and p["MinValue"] >= 1, (name, p)
    env = RES["SheetWebhookFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SHEETSYNC_PUSH_MIN_INTERVAL_SECS"] == {"Ref": "PushMinIntervalSecs"}


def test_previous_webhook_secret_only_while_rotating():
    env = RES["SheetWebhookFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SHEETSYNC_WEBHOOK_SECRET_PREVIOUS_ARN"] == {
        "Fn::If": ["HasPreviousWebhookSecret", {"Ref": "WebhookPreviousSecretArn"}, {"Ref": "AWS::NoValue"}]
    }
    assert SAM["Parameters"]["WebhookPreviousSecretArn"]["Default"] == ""


def test_relay_schedule_and_rds_invoke():
    rules = of_type("AWS::Events::Rule")
    assert [r["Properties"]["ScheduleExpression"] for r in rules.values()] == [{"Ref": "RelaySchedule"}]
    perm = RES["RdsInvokeRelayPermission"]
    assert perm["Condition"] == "HasRdsInvoker"
    assert perm["Properties"]["Principal"] == "rds.amazonaws.com"
    assert perm["Properties"]["SourceArn"] == {"Ref": "RdsSourceArn"}
    role = RES["RdsInvokeRelayRole"]
    assert role["Condition"] == "HasRdsInvoker"
    (s,) = statements("RdsInvokeRelayRole")
    assert s["Action"] == "lambda:InvokeFunction"
    assert s["Resource"] == {"Fn::GetAtt": ["OutboxRelayFunction", "Arn"]}


def test_concurrency_cap_on_database_facing_functions_only():
    cap = {"Fn::If": ["HasDbConcurrencyCap", {"Ref": "DbConcurrencyCap"}, {"Ref": "AWS::NoValue"}]}
    assert RES["SheetWebhookFunction"]["Properties"]["ReservedConcurrentExecutions"] == cap
    assert RES["OutboxRelayFunction"]["Properties"]["ReservedConcurrentExecutions"] == cap
    assert "ReservedConcurrentExecutions" not in RES["SheetWriterFunction"]["Properties"]


def test_alarms():
    alarms = of_type("AWS::CloudWatch::Alarm")
    dlq = alarms["DeadLetterDepthAlarm"]["Properties"]
    assert dlq["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["SyncDeadLetterQueue", "QueueName"]}}]
    assert (dlq["Threshold"], dlq["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    lag = alarms["CommitToSheetLagAlarm"]["Properties"]
    assert (lag["Namespace"], lag["MetricName"]) == ({"Ref": "MetricsNamespace"}, "CommitToSheetLagMs")
    assert lag["Dimensions"] == [{"Name": "function", "Value": "sheet-writer"}]
    assert SAM["Parameters"]["MetricsNamespace"]["Default"] == "sheetsync"


def test_no_secret_values_in_the_template():
    text = (ROOT / "template.yaml").read_text()
    assert "{{resolve:" not in text
    assert not re.search(r"-----BEGIN|private_key|AKIA[0-9A-Z]{16}", text)
    for name, p in SAM["Parameters"].items():
        if "Secret" in name:
            # An ARN, or (an optional secret) nothing: never a value.
            if "Default" in p:
                assert p["Default"] == "" and p["AllowedPattern"].startswith("^(arn:"), name
            else:
                assert p["AllowedPattern"].startswith("^arn:"), name


def env_names(logical):
    return set(RES[logical]["Properties"]["Environment"]["Variables"])


def test_environment_names_are_read_by_the_code():
    """Every variable the template sets is a string literal in the function's
    crate or a shared crate, so a renamed variable cannot silently go unread.
    Functions whose crate has not landed yet are skipped."""
    shared = "".join(p.read_text() for p in (ROOT / "shared").rglob("*.rs"))
    for binary, logical in FUNCTIONS.items():
        crate = ROOT / "functions" / binary
        if not (crate / "Cargo.toml").exists():
            print(f"  (skipped env check for {binary}: functions/{binary} has not landed)")
            continue
        code = shared + "".join(p.read_text() for p in crate.rglob("*.rs"))
        unread = sorted(n for n in env_names(logical) if f'"{n}"' not in code)
        assert not unread, f"{binary}: template sets variables no code reads: {unread}"


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]
    failed = 0
    for name, f in tests:
        try:
            f()
            print(f"ok    {name}")
        except Exception:  # noqa: BLE001 — report every failing check
            failed += 1
            print(f"FAIL  {name}")
            traceback.print_exc()
    print(f"template: {len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
