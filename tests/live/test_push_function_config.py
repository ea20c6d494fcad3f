"""What `chalice deploy` makes of the push function, read from Chalice's own application
graph (no AWS call): every deployed stage names the function it creates, and its policy
lets the writers invoke it."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_deployed_stage_hands_off_to_the_push_function_chalice_creates(stage):
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder
    from chalice.deploy.models import LambdaFunction

    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=stage)
    graph = ApplicationGraphBuilder().build(config, stage)
    resources = DependencyBuilder().build_dependencies(graph)
    functions = {r.resource_name: r for r in resources if isinstance(r, LambdaFunction)}
    push = functions["live_push"]
    assert push.handler == "app.live_push"
    assert push.environment_variables["LIVE_PUSH_FUNCTION"] == push.function_name == f"fiscaflow-{stage}-live_push"
    # Every function writes, so every function hands off: one role, one policy file.
    writer = functions["api_handler"]
    assert writer.environment_variables["LIVE_PUSH_FUNCTION"] == push.function_name
    assert writer.role.policy.filename == push.role.policy.filename
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    invoke = [s for s in policy["Statement"] if "lambda:InvokeFunction" in s["Action"]]
    assert [s["Resource"] for s in invoke] == [f"arn:aws:lambda:*:*:function:{push.function_name}"]
