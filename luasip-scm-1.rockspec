rockspec_format = "3.0"
package = "luasip"
version = "scm-1"
source = { url = "git+file://." }
description = {
  summary = "Scriptable SIP user agents for Lua 5.4 on libuv",
  detailed = [[
    luasip is a Lua 5.4 module written in C. Its core implements the SIP transport
    (UDP, TCP), RFC 3261 transactions, registration with digest authentication and,
    on top, a coroutine API so that a call flow reads top to bottom.
  ]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5" }
external_dependencies = {
  LIBUV = { header = "uv.h" },
  OSIP2 = { header = "osipparser2/osip_parser.h" },
}
build = {
  -- The Makefile is the one place that lists the C sources (csrc/*/*.c).
  type = "make",
  build_target = "module",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    LUA_INCDIR = "$(LUA_INCDIR)",
  },
  install_target = "install-module",
  install_variables = {
    INST_LIBDIR = "$(LIBDIR)",
    INST_LUADIR = "$(LUADIR)",
  },
}
