"""`cargo lambda deploy` of each built function against a Lambda API on
loopback (moto in-process), then the deployed configuration compared with
template.yaml: both ways of deploying must give a function the same memory,
timeout and environment variable names.

Run by tests/package-check after `cargo lambda build`, with the Python that
has moto (tests/requirements.txt). Functions are named on the command line.
"""

import json
import logging
import os
import pathlib
import subprocess
import sys
import traceback

import boto3
import yaml
from moto.server import ThreadedMotoServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
LOGICAL = {
    "sheet-webhook": "SheetWebhookFunction",
    "outbox-relay": "OutboxRelayFunction",
    "sheet-writer": "SheetWriterFunction",
}
CREDS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}


class CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _tag)
# The in-process server would log every request.
logging.getLogger("werkzeug").setLevel(logging.ERROR)


def template_expectations(template, logical):
    """Memory, timeout, and the env names a deployment must have (`required`)
    or may have (`allowed`: also those set only under a condition)."""
    glob = template["Globals"]["Function"]
    props = template["Resources"][logical]["Properties"]
    env = dict(glob.get("Environment", {}).get("Variables", {}))
    env.update(props.get("Environment", {}).get("Variables", {}))
    optional = {
        k for k, v in env.items()
        if isinstance(v, dict) and "Fn::If" in v and {"Ref": "AWS::NoValue"} in v["Fn::If"][1:]
    }
    return {
        "memory": props.get("MemorySize", glob.get("MemorySize")),
        "timeout": props.get("Timeout", glob.get("Timeout")),
        "required": set(env) - optional,
        "allowed": set(env),
    }


def deploy(name, endpoint, role_arn):
    env = {**os.environ, **CREDS}
    args = [
        "cargo", "lambda", "deploy",
        "--endpoint-url", endpoint,
        "--iam-role", role_arn,
        "--env-file", f"functions/{name}/deploy.env.example",
        "--output-format", "json",
        name,
    ]
    out = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError(f"cargo lambda deploy {name} failed:\n{out.stdout}\n{out.stderr}")
    start = out.stdout.index("{")
    return json.loads(out.stdout[start:])


def main(names):
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    failed = 0
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        clients = {"region_name": "us-east-1", "endpoint_url": endpoint,
                   "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        iam = boto3.client("iam", **clients)
        lam = boto3.client("lambda", **clients)
        role_arn = iam.create_role(
            RoleName="sheetsync-deploy-check",
            AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                               "Action": "sts:AssumeRole"}],
            }),
        )["Role"]["Arn"]
        for name in names:
            try:
                result = deploy(name, endpoint, role_arn)
                want = template_expectations(template, LOGICAL[name])
                cfg = lam.get_function_configuration(FunctionName=name)
                got_env = set(cfg.get("Environment", {}).get("Variables", {}))
                problems = []
                if cfg["Runtime"] != "provided.al2023":
                    problems.append(f"runtime {cfg['Runtime']}")
                if cfg["MemorySize"] != want["memory"]:
                    problems.append(f"memory {cfg['MemorySize']} != template {want['memory']}")
                if cfg["Timeout"] != want["timeout"]:
                    problems.append(f"timeout {cfg['Timeout']} != template {want['timeout']}")
                if want["required"] - got_env:
                    problems.append(f"env missing {sorted(want['required'] - got_env)}")
                if got_env - want["allowed"]:
                    problems.append(f"env not in template {sorted(got_env - want['allowed'])}")
                if problems:
                    raise AssertionError("; ".join(problems))
                print(f"ok    {name}: deployed {result['function_arn']} ({cfg['Architectures'][0]}, "
                      f"{cfg['MemorySize']} MB, {cfg['Timeout']} s, {len(got_env)} env vars as in template.yaml)")
            except Exception:  # noqa: BLE001 — report each function
                failed += 1
                print(f"FAIL  {name}")
                traceback.print_exc()
    finally:
        server.stop()
    print(f"deploy: {len(names) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
