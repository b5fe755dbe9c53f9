"""A small MCP server written with the Python `mcp` SDK, for scripts/certify-real-servers.sh.

One read-only tool, one resource, one prompt: what a typical small server offers.
"""
from mcp.server.mcpserver import MCPServer  # mcp 2.x (FastMCP in 1.x)
from mcp.types import ToolAnnotations

mcp = MCPServer("mcp-conform-python-minimal")


@mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@mcp.resource("memo://greeting")
def greeting() -> str:
    """A fixed greeting."""
    return "hello"


@mcp.prompt()
def review(code: str) -> str:
    """Ask for a code review."""
    return f"Please review:\n{code}"


if __name__ == "__main__":
    mcp.run()
