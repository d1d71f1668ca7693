"""Start the installed `tsgpu` kernelspec with Debian's jupyter_client and run a few cells.

    /usr/bin/python3 test/clients/snapshot_start_check.py [--kernel tsgpu]

Prints one JSON object: the kernel process's pid and command line (read from /proc once it answers), and per cell its reply status, text/plain result and error value.
"""
import argparse
import json
import sys

from jupyter_client.manager import KernelManager

CELLS = [
    "const answer: number = 6 * 7; answer",
    "const wrong: string = 1",
    "const tensorCell = tf.tensor([1, 2, 3]);\ntensorCell.sum().dataSync()[0]",
    # The device layer loads Dawn with import(): a snapshot's modules must be able to.
    "%device gpu:0\nconst gpuCell = tf.tensor([1, 2, 3]);\n(await gpuCell.data())[2]",
    # The launcher's allocator settings are the kernel's own, not its cells' or their children's.
    "Object.keys(process.env).filter((name) => name.startsWith('MALLOC_') || name.startsWith('TSGPU_MALLOC') || name === 'GLIBC_TUNABLES').join(',') || 'none'",
    # A node process a cell starts as fork() does (with the kernel's execArgv) runs its own code.
    "require('node:child_process').execFileSync(process.execPath, [...process.execArgv, '-p', '6 * 7'], { encoding: 'utf8' }).trim()",
    # What a cell sees of the main module, which a start from the snapshot must give as a plain start does.
    "const mainSeen = require.main;\nJSON.stringify(mainSeen === undefined ? null : { id: mainSeen.id, filename: mainSeen.filename, loaded: mainSeen.loaded,"
    " isMainModule: mainSeen === process.mainModule, children: mainSeen.children.map((child) => child.filename) })",
    # The compiler a cell imports is the one the kernel runs (from a snapshot, its compact copy): it names its own classes.
    "import tsSeen from 'typescript';\ntsSeen.createSourceFile('a.ts', 'let a = 1', 99).statements[0].constructor.name",
]


def run_cell(kc, code):
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=120)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=120)
    result = None
    while True:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_result":
            result = msg["content"]["data"].get("text/plain")
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return {"status": reply["content"]["status"], "result": result, "evalue": reply["content"].get("evalue")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default="tsgpu")
    args = ap.parse_args()
    km = KernelManager(kernel_name=args.kernel)
    km.start_kernel()
    out = {}
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        # Read once the kernel answers: by then the launcher has replaced itself with node.
        pid = km.provisioner.process.pid
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            out["cmdline"] = [part.decode() for part in f.read().split(b"\0") if part]
        out["pid"] = pid
        out["cells"] = [run_cell(kc, code) for code in CELLS]
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=False)
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
