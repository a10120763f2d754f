# A real MCP client for the end-to-end tests: the official Python SDK (PyPI `mcp`, 2.x, installed
# by scripts/setup-peers.sh into .ci/venv) drives `tandem mcp-server` over stdio.
#
#   python mcp_client.py PLAN_JSON
#
# PLAN_JSON says what to do:
#   {"command": "/path/to/tandem", "args": ["mcp-server"], "env": {...}, "cwd": "...",
#    "elicitation": "allow_once" | "allow_session" | "deny" | "decline" | "garbage" | null,
#    "calls": [{"tool": "tandem", "arguments": {...}},
#              {"tool": "tandem-reply", "arguments": {"threadId": "$thread", "prompt": "..."}}]}
#
# A call may carry "timeout": SECONDS; the SDK then abandons it after that long and sends
# `notifications/cancelled`, and the report records the error.
# "$thread" is replaced by the threadId of the previous call's result (or, when that call was
# abandoned, the thread its logging messages named). With "elicitation": null
# the client declares no elicitation capability. The script prints one JSON report on stdout
# (server info, tools, every call's result and progress, elicitations seen, log messages); the
# Rust test asserts on it.
import json
import sys

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp import types


async def main(plan):
    report = {"elicitations": [], "logs": [], "calls": []}
    answer = plan.get("elicitation")

    async def on_elicit(context, params):
        report["elicitations"].append(params.model_dump(mode="json", by_alias=True, exclude_none=True))
        if answer == "decline":
            return types.ElicitResult(action="decline")
        if answer == "garbage":
            return types.ElicitResult(action="accept", content={"decision": "sure, why not"})
        return types.ElicitResult(action="accept", content={"decision": answer})

    async def on_log(params):
        report["logs"].append(params.model_dump(mode="json", by_alias=True, exclude_none=True))

    server = StdioServerParameters(
        command=plan["command"], args=plan["args"], env=plan.get("env"), cwd=plan.get("cwd")
    )
    async with stdio_client(server) as (read, write):
        kwargs = {"logging_callback": on_log}
        if answer is not None:
            kwargs["elicitation_callback"] = on_elicit
        async with ClientSession(read, write, **kwargs) as session:
            init = await session.initialize()  # mcp 2.x: snake_case fields
            report["server_info"] = init.server_info.model_dump(mode="json", exclude_none=True)
            report["protocol_version"] = init.protocol_version
            tools = (await session.list_tools()).tools
            report["tools"] = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
            thread = None
            for call in plan.get("calls", []):
                arguments = dict(call["arguments"])
                for key, value in arguments.items():
                    if value == "$thread":
                        arguments[key] = thread
                progress = []

                async def on_progress(value, total, message, progress=progress):
                    progress.append({"progress": value, "message": message})

                try:
                    result = await session.call_tool(
                        call["tool"],
                        arguments,
                        read_timeout_seconds=call.get("timeout", 120),
                        progress_callback=on_progress,
                    )
                except Exception as e:  # the SDK raises when it abandons a call
                    report["calls"].append({"error": repr(e), "progress": progress})
                    named = [log["data"]["threadId"] for log in report["logs"] if "threadId" in log.get("data", {})]
                    thread = named[-1] if named else thread
                    continue
                dumped = result.model_dump(mode="json", by_alias=True, exclude_none=True)
                report["calls"].append({"result": dumped, "progress": progress})
                if result.structured_content and "threadId" in result.structured_content:
                    thread = result.structured_content["threadId"]
    print(json.dumps(report))


if __name__ == "__main__":
    anyio.run(main, json.loads(sys.argv[1]))
