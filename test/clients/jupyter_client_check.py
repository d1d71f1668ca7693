"""Drive the installed `tsgpu` kernelspec with Debian's jupyter_client, the way Jupyter's own tools do.

Run with /usr/bin/python3 (Debian's Jupyter stack) in an isolated Jupyter environment where the
kernelspec has been installed (JUPYTER_PATH etc. set by test/clients/jupyter-client.test.ts):

    /usr/bin/python3 test/clients/jupyter_client_check.py [--kernel tsgpu] [--expect-dir DIR]

Prints one line per check ("ok <check> ...") and exits 1 on the first failure ("FAIL <check>: ...").
"""
import argparse
import os
import sys
import time
import traceback

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

TIMEOUT = 30.0  # seconds for any one reply


class CheckFailed(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def run_cell(kc, code, timeout=TIMEOUT, **kw):
    """Execute code; return (reply, iopub messages with this parent, in order, through status idle)."""
    msg_id = kc.execute(code, **kw)
    return wait_reply(kc, msg_id, timeout), collect_iopub(kc, msg_id, timeout)


def wait_reply(kc, msg_id, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        expect(left > 0, f"no shell reply to {msg_id} within {timeout:.0f} s")
        try:
            msg = kc.get_shell_msg(timeout=left)
        except Exception:  # queue.Empty
            raise CheckFailed(f"no shell reply to {msg_id} within {timeout:.0f} s")
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def collect_iopub(kc, msg_id, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    out = []
    while True:
        left = deadline - time.monotonic()
        expect(left > 0, f"no iopub status idle for {msg_id} within {timeout:.0f} s; saw {summary(out)}")
        try:
            msg = kc.get_iopub_msg(timeout=left)
        except Exception:
            raise CheckFailed(f"no iopub status idle for {msg_id} within {timeout:.0f} s; saw {summary(out)}")
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        out.append(msg)
        if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
            return out


def summary(msgs):
    parts = []
    for m in msgs:
        t = m["msg_type"]
        c = m["content"]
        if t == "status":
            parts.append(f"status:{c.get('execution_state')}")
        elif t == "stream":
            parts.append(f"stream:{c.get('name')}:{c.get('text')!r}")
        elif t in ("execute_result", "display_data"):
            parts.append(f"{t}:{c.get('data', {}).get('text/plain')!r}")
        elif t == "error":
            parts.append(f"error:{c.get('ename')}:{c.get('evalue')!r}")
        else:
            parts.append(t)
    return "[" + ", ".join(parts) + "]"


def of_type(msgs, t):
    return [m for m in msgs if m["msg_type"] == t]


def check_bracketed(msgs, what):
    states = [m["content"]["execution_state"] for m in of_type(msgs, "status")]
    expect(states[:1] == ["busy"] and states[-1:] == ["idle"],
           f"{what}: iopub status not busy ... idle: {summary(msgs)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default="tsgpu")
    ap.add_argument("--expect-dir", default=None,
                    help="the kernelspec must resolve to this directory (the isolated install)")
    args = ap.parse_args()

    km = None
    kc = None
    current = "setup"
    t_all = time.monotonic()

    def ok(name, detail=""):
        print(f"ok {name}" + (f" ({detail})" if detail else ""), flush=True)

    try:
        current = "kernelspec"
        spec = KernelSpecManager().get_kernel_spec(args.kernel)
        if args.expect_dir:
            expect(os.path.realpath(spec.resource_dir) == os.path.realpath(args.expect_dir),
                   f"kernelspec {args.kernel} resolved to {spec.resource_dir}, expected {args.expect_dir}")
        expect(spec.language == "typescript", f"language {spec.language!r}")
        expect(spec.interrupt_mode == "message", f"interrupt_mode {spec.interrupt_mode!r}")
        ok(current, f"{spec.resource_dir}, argv {spec.argv}")

        current = "start + wait_for_ready"
        t0 = time.monotonic()
        km = KernelManager(kernel_name=args.kernel)
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        pid = km.provisioner.pid if km.provisioner is not None else None
        ok(current, f"{(time.monotonic() - t0) * 1000:.0f} ms, pid {pid}")

        current = "kernel_info"
        msg_id = kc.kernel_info()
        reply = wait_reply(kc, msg_id)
        c = reply["content"]
        expect(c.get("status") == "ok", f"status {c.get('status')!r}")
        expect(c.get("implementation") == "tsgpu", f"implementation {c.get('implementation')!r}")
        expect(c.get("language_info", {}).get("name") == "typescript", f"language_info {c.get('language_info')!r}")
        ok(current, f"protocol {c.get('protocol_version')}, {c.get('implementation')} {c.get('implementation_version')}")

        current = "execute 1+1"
        reply, msgs = run_cell(kc, "1+1")
        expect(reply["content"]["status"] == "ok", f"reply {reply['content']}")
        check_bracketed(msgs, current)
        results = of_type(msgs, "execute_result")
        expect(len(results) == 1, f"expected one execute_result, got {summary(msgs)}")
        expect(results[0]["content"]["data"].get("text/plain") == "2", f"execute_result {results[0]['content']}")
        expect(results[0]["content"]["execution_count"] == reply["content"]["execution_count"],
               "execute_result and execute_reply execution_count differ")
        expect(of_type(msgs, "execute_input"), f"no execute_input: {summary(msgs)}")
        ok(current, f"execute_result '2', execution_count {reply['content']['execution_count']}")

        current = "execute console.log"
        reply, msgs = run_cell(kc, "console.log('hello from tsgpu')")
        expect(reply["content"]["status"] == "ok", f"reply {reply['content']}")
        out = "".join(m["content"]["text"] for m in of_type(msgs, "stream") if m["content"]["name"] == "stdout")
        expect(out == "hello from tsgpu\n", f"stdout {out!r}; iopub {summary(msgs)}")
        expect(not of_type(msgs, "execute_result"), f"console.log produced an execute_result: {summary(msgs)}")
        ok(current, "stream stdout 'hello from tsgpu\\n'")

        current = "execute error"
        reply, msgs = run_cell(kc, "throw new Error('boom')")
        c = reply["content"]
        expect(c["status"] == "error", f"reply status {c['status']!r}")
        expect(c.get("ename") == "Error" and c.get("evalue") == "boom", f"reply ename/evalue {c.get('ename')!r}/{c.get('evalue')!r}")
        errs = of_type(msgs, "error")
        expect(len(errs) == 1, f"expected one iopub error, got {summary(msgs)}")
        e = errs[0]["content"]
        expect(e["ename"] == "Error" and e["evalue"] == "boom" and isinstance(e.get("traceback"), list),
               f"iopub error {e}")
        ok(current, f"reply status error, {e['ename']}: {e['evalue']}, {len(e['traceback'])} traceback lines")

        current = "complete"
        code = "globalThis.setT"
        msg_id = kc.complete(code, len(code))
        reply = wait_reply(kc, msg_id)
        c = reply["content"]
        expect(c.get("status") == "ok", f"status {c.get('status')!r}")
        expect("setTimeout" in c.get("matches", []), f"matches {c.get('matches')!r}")
        expect(c.get("cursor_end") == len(code), f"cursor_end {c.get('cursor_end')!r}")
        expect(isinstance(c.get("cursor_start"), int) and c["cursor_start"] <= len(code),
               f"cursor_start {c.get('cursor_start')!r}")
        ok(current, f"{len(c['matches'])} matches incl. setTimeout, cursor {c['cursor_start']}..{c['cursor_end']}")

        current = "history tail"
        msg_id = kc.history(hist_access_type="tail", n=10, raw=True, output=False)
        reply = wait_reply(kc, msg_id)
        c = reply["content"]
        expect(c.get("status") == "ok", f"status {c.get('status')!r}")
        hist = c.get("history", [])
        inputs = [h[2] for h in hist]
        expect("1+1" in inputs and "console.log('hello from tsgpu')" in inputs, f"history {hist!r}")
        expect(all(len(h) == 3 and h[0] == 1 for h in hist), f"history entries not [1, line, input]: {hist!r}")
        ok(current, f"{len(hist)} entries, last {hist[-1]!r}")

        current = "interrupt"
        reply, _ = run_cell(kc, "var kept = 41 + 1")
        expect(reply["content"]["status"] == "ok", f"setup cell reply {reply['content']}")
        msg_id = kc.execute("while (true) {}")
        # wait until the loop has really started (execute_input comes before it runs)
        deadline = time.monotonic() + TIMEOUT
        seen = []
        while True:
            expect(time.monotonic() < deadline, f"loop cell never started: {summary(seen)}")
            try:
                m = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            except Exception:  # queue.Empty
                raise CheckFailed(f"loop cell never started (no execute_input): {summary(seen)}")
            if m["parent_header"].get("msg_id") == msg_id:
                seen.append(m)
                if m["msg_type"] == "execute_input":
                    break
        time.sleep(0.5)
        t0 = time.monotonic()
        km.interrupt_kernel()
        reply = wait_reply(kc, msg_id, timeout=15)
        dt = time.monotonic() - t0
        c = reply["content"]
        expect(c["status"] == "error", f"interrupted cell reply status {c['status']!r}: {c}")
        expect(c.get("ename") == "Interrupted", f"interrupted cell ename {c.get('ename')!r}")
        collect_iopub(kc, msg_id)
        reply, msgs = run_cell(kc, "kept")
        expect(reply["content"]["status"] == "ok", f"cell after interrupt: {reply['content']}")
        results = of_type(msgs, "execute_result")
        expect(results and results[0]["content"]["data"].get("text/plain") == "42",
               f"variable defined before the interrupt: {summary(msgs)}")
        ok(current, f"reply {c['status']}/{c.get('ename')} after {dt * 1000:.0f} ms; kept === 42 afterwards")

        current = "shutdown"
        proc = km.provisioner.process if km.provisioner is not None else None
        pid = proc.pid if proc is not None else None
        expect(pid is not None, "no kernel process to watch")
        kc.stop_channels()
        kc = None
        t0 = time.monotonic()
        km.shutdown_kernel()
        dt = time.monotonic() - t0
        rc = proc.poll()
        if rc is None:
            try:
                rc = proc.wait(timeout=5)
            except Exception:
                rc = None
        expect(rc is not None and not os.path.exists(f"/proc/{pid}"), f"kernel pid {pid} still running")
        expect(rc == 0, f"kernel exited with {rc} (negative: killed by signal {-rc if rc and rc < 0 else ''}); "
                        "it should exit 0 on shutdown_request")
        expect(not km.is_alive(), "KernelManager says the kernel is alive")
        # jupyter_client escalates to SIGTERM (then SIGKILL) when the kernel has not exited within
        # shutdown_wait_time / 2 after shutdown_request; a clean exit never gets there.
        escalation = getattr(getattr(km, "_shutdown_status", None), "name", None)
        expect(escalation in (None, "Unset", "ShutdownRequest"),
               f"jupyter_client had to escalate to {escalation} after shutdown_request")
        ok(current, f"pid {pid} gone, exit code {rc}, shutdown_kernel took {dt * 1000:.0f} ms")
        km = None

        print(f"all checks passed in {time.monotonic() - t_all:.1f} s", flush=True)
        return 0
    except CheckFailed as e:
        print(f"FAIL {current}: {e}", flush=True)
        return 1
    except Exception:
        print(f"FAIL {current}: unexpected exception", flush=True)
        traceback.print_exc(file=sys.stdout)
        return 1
    except KeyboardInterrupt:
        print(f"FAIL {current}: interrupted (timeout)", flush=True)
        return 1
    finally:
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception:
                pass
        if km is not None:
            try:
                km.shutdown_kernel(now=True)
            except Exception:
                pass


if __name__ == "__main__":
    sys.exit(main())
