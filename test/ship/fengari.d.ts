/** The few functions of fengari (a Lua 5.3 VM in JavaScript, no typings of its own) used here. */
declare module 'fengari' {
  export type LuaState = { readonly __luaState: unique symbol };
  export const lua: {
    LUA_OK: number;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_tojsstring(L: LuaState, index: number): string;
    lua_close(L: LuaState): void;
  };
  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadstring(L: LuaState, code: Uint8Array): number;
  };
  export const lualib: { luaL_openlibs(L: LuaState): void };
  export function to_luastring(s: string): Uint8Array;
}
