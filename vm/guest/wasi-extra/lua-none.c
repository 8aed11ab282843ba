/* Stands for one of Lua's files, compiled instead as part of lua-one.c. */
