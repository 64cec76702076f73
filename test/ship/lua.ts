import { lauxlib, lua, lualib, to_luastring } from 'fengari';

/**
 * Runs an Argo CD resource-customization script (health check or action) the way Argo CD does:
 * the object is the global `obj`, the script's return value is the result. Argo CD embeds
 * gopher-lua (Lua 5.1); fengari is Lua 5.3, and the scripts keep to what both understand.
 * Objects cross the boundary as Lua table literals in and JSON out.
 */
export function runArgoLua(script: string, obj: unknown): unknown {
  const program = `
obj = ${toLua(obj)}
local function __script()
${script}
end
return __encode(__script())`;
  const L = lauxlib.luaL_newstate();
  try {
    lualib.luaL_openlibs(L);
    const prelude = lauxlib.luaL_loadstring(L, to_luastring(ENCODER));
    if (prelude !== lua.LUA_OK || lua.lua_pcall(L, 0, 0, 0) !== lua.LUA_OK) throw new Error(lua.lua_tojsstring(L, -1));
    if (lauxlib.luaL_loadstring(L, to_luastring(program)) !== lua.LUA_OK) {
      throw new Error(`Lua syntax error: ${lua.lua_tojsstring(L, -1)}`);
    }
    if (lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) throw new Error(`Lua error: ${lua.lua_tojsstring(L, -1)}`);
    return JSON.parse(lua.lua_tojsstring(L, -1)) as unknown;
  } finally {
    lua.lua_close(L);
  }
}

/** A JSON-like value as a Lua literal (arrays 1-based, null as nil). ASCII strings only. */
export function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') {
    if (!/^[\x20-\x7e]*$/.test(value)) throw new Error(`toLua: only printable ASCII strings: ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  if (typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `[${toLua(k)}] = ${toLua(v)}`)
      .join(', ')}}`;
  }
  throw new Error(`toLua: unsupported ${typeof value}`);
}

/** JSON encoder in Lua: a table with keys 1..n (and no others) is an array. */
const ENCODER = `
function __encode(v)
  local t = type(v)
  if v == nil then return "null" end
  if t == "boolean" or t == "number" then return tostring(v) end
  if t == "string" then return string.format("%q", v):gsub("\\\\\\n", "\\\\n") end
  if t ~= "table" then error("cannot encode " .. t) end
  local n, count = #v, 0
  for _ in pairs(v) do count = count + 1 end
  local parts = {}
  if n > 0 and n == count then
    for i = 1, n do parts[#parts + 1] = __encode(v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  for k, val in pairs(v) do parts[#parts + 1] = __encode(tostring(k)) .. ":" .. __encode(val) end
  return "{" .. table.concat(parts, ",") .. "}"
end`;
