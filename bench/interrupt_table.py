#!/usr/bin/python3
"""Does an interrupt stop what the cell started? tsgpu beside ipykernel, in one run, through
Debian's jupyter_client (what nbclient and JupyterLab's server use).

    npm run bench:interrupts            # tsgpu (this checkout) and ipykernel
    /usr/bin/python3 bench/interrupt_table.py --rounds 5 --also NAME   # add an installed kernelspec

Each loop runs about a second, is interrupted the way the client does it for that kernel
(KernelManager.interrupt_kernel: interrupt_request for tsgpu, SIGINT for ipykernel), and its
counter is read right after the reply and again 1.5 s later. A loop counts as stopped when the
reply is an error and the counter did not move. Loops (tsgpu only where Python has no equivalent
here: Debian's Python has no numpy, torch or TensorFlow):
  timer: await a 1 ms timer, count          (ipykernel: await asyncio.sleep(0.001))
  gpu:   await xs.sum().data() on gpu:0      (tsgpu only)
  fit:   model.fit for 300 epochs on gpu:0   (tsgpu only); then whether the next fit runs
"""
import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from jupyter_client.manager import KernelManager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_S = 1.0
QUIET_S = 1.5

TS_SETUP = """const counts: Record<string, number> = {};
const xs = tf.randomNormal([1024]);
await xs.to('gpu:0');
await xs.sum().data();
const model = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [4], activation: 'relu' }), tf.layers.dense({ units: 1 })] });
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
await model.to('gpu:0');
const fx = await tf.randomNormal([64, 4]).to('gpu:0');
const fy = await tf.randomNormal([64, 1]).to('gpu:0');
await model.fit(fx, fy, { epochs: 1, batchSize: 32, verbose: 0 });
1"""
TS_LOOPS = {
    'timer': lambda key: f"counts.{key} = 0;\nfor (;;) {{ await new Promise((r) => setTimeout(r, 1)); counts.{key}++; }}",
    'gpu': lambda key: f"counts.{key} = 0;\nfor (;;) {{ await xs.sum().data(); counts.{key}++; }}",
    'fit': lambda key: (f"counts.{key} = 0;\nawait model.fit(fx, fy, {{ epochs: 300, batchSize: 32, verbose: 0, "
                        f"callbacks: {{ onEpochEnd: async () => {{ counts.{key}++; }} }} }})"),
}
PY_SETUP = "import asyncio\ncounts = {}\n1"
PY_LOOPS = {
    'timer': lambda key: f"counts['{key}'] = 0\nwhile True:\n    await asyncio.sleep(0.001)\n    counts['{key}'] += 1",
}


def run(client, code, timeout=120):
    """Executes `code`; returns (reply content, text/plain result or None, error names)."""
    msg_id = client.execute(code)
    result, errors = None, []
    while True:
        message = client.get_iopub_msg(timeout=timeout)
        if message['parent_header'].get('msg_id') != msg_id:
            continue
        kind = message['msg_type']
        if kind == 'execute_result':
            result = message['content']['data'].get('text/plain')
        elif kind == 'error':
            errors.append(message['content']['ename'])
        elif kind == 'status' and message['content']['execution_state'] == 'idle':
            break
    reply = client.get_shell_msg(timeout=timeout)
    while reply['parent_header'].get('msg_id') != msg_id:
        reply = client.get_shell_msg(timeout=timeout)
    return reply['content'], result, errors


def interrupt_loop(manager, client, code):
    """Starts `code`, interrupts it RUN_S after execute_input; (reply status or ename, ms to the reply)."""
    msg_id = client.execute(code)
    while True:
        message = client.get_iopub_msg(timeout=120)
        if message['parent_header'].get('msg_id') == msg_id and message['msg_type'] == 'execute_input':
            break
    time.sleep(RUN_S)
    started = time.perf_counter()
    manager.interrupt_kernel()
    try:
        reply = client.get_shell_msg(timeout=10)
        while reply['parent_header'].get('msg_id') != msg_id:
            reply = client.get_shell_msg(timeout=10)
    except queue.Empty:
        return 'no reply within 10 s', None
    ms = (time.perf_counter() - started) * 1000
    # Drain its iopub up to idle, so later reads see only their own messages.
    while True:
        message = client.get_iopub_msg(timeout=10)
        if message['parent_header'].get('msg_id') == msg_id and message['msg_type'] == 'status' \
                and message['content']['execution_state'] == 'idle':
            break
    content = reply['content']
    return (content.get('ename') if content['status'] == 'error' else content['status']), ms


def measure(kernel_name, rounds, typescript):
    manager = KernelManager(kernel_name=kernel_name)
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    rows = {}
    try:
        setup = run(client, TS_SETUP if typescript else PY_SETUP)
        if setup[0]['status'] != 'ok':
            raise RuntimeError(f'{kernel_name}: setup failed: {setup}')
        loops = TS_LOOPS if typescript else PY_LOOPS
        read = (lambda key: f"counts.{key}") if typescript else (lambda key: f"counts['{key}']")
        for loop, code in loops.items():
            outcomes = []
            for round_ in range(1, rounds + 1):
                key = f"{loop}{round_}"
                outcome, ms = interrupt_loop(manager, client, code(key))
                first = run(client, read(key), timeout=30)[1]
                if first is None:
                    # ipykernel: a SIGINT can land in the next cell (the read) instead: read once more.
                    first = run(client, read(key), timeout=30)[1]
                time.sleep(QUIET_S)
                later = run(client, read(key), timeout=30)[1]
                next_fit = None
                if loop == 'fit':
                    content, value, errors = run(client, '(await model.fit(fx, fy, { epochs: 2, batchSize: 32, verbose: 0 })).epoch.length')
                    next_fit = value == '2'
                outcomes.append({'reply': outcome, 'ms': ms, 'first': first, 'later': later, 'next_fit': next_fit})
            rows[loop] = outcomes
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return rows


INTERRUPTED = ('Interrupted', 'KeyboardInterrupt', 'CancelledError')


def summarize(outcomes):
    stopped = sum(1 for o in outcomes if o['reply'] in INTERRUPTED and o['first'] == o['later'] and o['first'] is not None)
    ms = [o['ms'] for o in outcomes if o['ms'] is not None]
    pairs = ', '.join(f"{o['first']}→{o['later']}" for o in outcomes[:3])
    text = f"{stopped}/{len(outcomes)} stopped; reply {statistics.median(ms):.0f} ms (median); counter after/1.5 s later: {pairs}"
    fits = [o['next_fit'] for o in outcomes if o['next_fit'] is not None]
    if fits:
        text += f"; next fit ran {sum(fits)}/{len(fits)}"
    replies = sorted({str(o['reply']) for o in outcomes})
    return f"{text} (replies: {', '.join(replies)})"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--also', action='append', default=[], help='another installed TypeScript kernelspec to measure')
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix='tsgpu-interrupt-table-')
    os.environ['JUPYTER_RUNTIME_DIR'] = os.path.join(home, 'runtime')
    os.environ['JUPYTER_DATA_DIR'] = os.path.join(home, 'data')
    os.environ['JUPYTER_PATH'] = os.pathsep.join(filter(None, [os.path.join(home, 'share', 'jupyter'), os.environ.get('JUPYTER_PATH')]))
    subprocess.run(['node', os.path.join(ROOT, 'dist', 'kernel', 'cli', 'main.js'), 'install', '--prefix', home, '--name', 'tsgpu-table'],
                   check=True, stdout=subprocess.DEVNULL)
    try:
        kernels = [('tsgpu (this checkout)', 'tsgpu-table', True), *[(name, name, True) for name in args.also], ('ipykernel', 'python3', False)]
        results = {label: measure(name, args.rounds, typescript) for label, name, typescript in kernels}
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"\n{args.rounds} rounds per loop, interrupted {RUN_S:.0f} s in, counter read again {QUIET_S} s later\n")
    print('| loop | ' + ' | '.join(results) + ' |')
    print('|---|' + '---|' * len(results))
    for loop in TS_LOOPS:
        cells = [summarize(rows[loop]) if loop in rows else 'not measurable here' for rows in results.values()]
        print(f"| {loop} | " + ' | '.join(cells) + ' |')
    print('\nDeno\'s Jupyter kernel is not installed on this machine, so it has no column.')
    json.dump(results, sys.stderr)


if __name__ == '__main__':
    main()
