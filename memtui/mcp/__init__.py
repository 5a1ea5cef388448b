"""memtui's MCP server: agents reach the same store through the Model Context Protocol.

`tools` says what each tool does and runs it over the Backend; `server` serves them with
the official MCP SDK over stdio or streamable HTTP. `memtui mcp` (memtui.commands.mcp)
starts it.
"""
