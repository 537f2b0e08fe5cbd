# Source this file to run Lua scripts against the module built by `make build`:
#   . tests/env.sh && lua5.4 examples/demo.lua
# It points Lua at the project-local LuaRocks tree (.luarocks) only.
_luasip_root=$(cd "$(dirname "${BASH_SOURCE:-$0}")/.." 2>/dev/null && pwd)
[ -f "$_luasip_root/luasip-scm-1.rockspec" ] || _luasip_root=$(pwd)
export LUA_PATH="$_luasip_root/.luarocks/share/lua/5.4/?.lua;$_luasip_root/.luarocks/share/lua/5.4/?/init.lua;;"
export LUA_CPATH="$_luasip_root/.luarocks/lib/lua/5.4/?.so;;"
unset _luasip_root
