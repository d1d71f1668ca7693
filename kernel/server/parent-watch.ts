// A kernel must not outlive the client that launched it (an editor killed with SIGKILL leaves
// no one to send shutdown_request). A changed parent pid means the parent died and we were
// re-parented; JPY_PARENT_PID, when a launcher sets it, names the process to watch instead.
const CHECK_EVERY_MS = 1000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function watchParent(onDeath: () => void): void {
  const declared = Number(process.env['JPY_PARENT_PID']);
  const parent = Number.isInteger(declared) && declared > 1 ? declared : process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent && !alive(parent)) {
      clearInterval(timer);
      onDeath();
    }
  }, CHECK_EVERY_MS);
  timer.unref();
}
