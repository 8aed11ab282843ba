/* Lua's C sources are built with -D_WASI_EMULATED_SIGNAL and link libwasi-emulated-signal; the
 * process library never raises signals, so nothing needs to be in it. */
int aos_wasi_emulated_signal_unused;
