// The environment the kernel process starts with. glibc reads its malloc settings once, when the
// process starts, so whatever starts `tsgpu kernel` sets them: the kernelspec's `env` (Jupyter),
// `tsgpu run`, the tests and the benchmarks.
//
// Why MALLOC_MMAP_THRESHOLD_: a cell printing 50 MiB left the kernel's RSS 60–90 MiB above its
// baseline for good (ipykernel: +0.3 MiB). The memory was freed but kept by malloc: the stream
// messages' frame buffers, ~64 KiB each and all alive at once while zeromq sends them, are
// interleaved in the arena with small allocations that outlive them, and glibc returns only the
// top of an arena to the system (malloc_trim(0), called from gdb, gave it all back). With
// allocations of 64 KiB and up served by mmap, each goes back to the system when freed: +13 MiB
// after 50 MiB of output. Setting the threshold also turns off glibc's sliding threshold, which
// otherwise rises to 32 MiB after the first large free. Measured here (2 cores): MALLOC_ARENA_MAX=1
// or 2 left +50 MiB, MALLOC_TRIM_THRESHOLD_ alone +66 MiB. The price: a host allocation of 64 KiB or
// more (an ArrayBuffer for a readback, a cpu-backend tensor) is a fresh mmap and its page faults.
const MALLOC = { MALLOC_MMAP_THRESHOLD_: '65536' } as const;

/** `base` with the kernel's malloc settings added; a value already set in `base` wins. */
export function kernelEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...MALLOC, ...base };
}

/** The settings alone, for a kernelspec's `env`. */
export function kernelspecEnv(): Record<string, string> {
  return { ...MALLOC };
}
