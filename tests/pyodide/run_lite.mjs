// Runs the Excel functions in Pyodide (the Python of xlwings Lite), offline.
//
//   node run_lite.mjs WHEELS_DIR CASES_JSON HARNESS_PY
//
// WHEELS_DIR holds micropip's wheel and the project's wheel (nothing else is
// installed: the project's declared runtime dependencies are all that micropip
// may add, and with no index it could fetch none). CASES_JSON is a list of
// {key, func, args} with arguments as Office.js hands them. Prints one JSON
// document: {timings_ms, checks, results}. Used by tests/test_lite.py.
import { loadPyodide } from "pyodide";
import fs from "node:fs";
import path from "node:path";

const [wheelsDir, casesPath, harnessPath] = process.argv.slice(2).map((p) => path.resolve(p));
const wheels = fs.readdirSync(wheelsDir);
const micropipWheel = wheels.find((w) => w.startsWith("micropip-") && w.endsWith(".whl"));
const projectWheel = wheels.find((w) => w.startsWith("ptbilling-") && w.endsWith(".whl"));
if (!micropipWheel || !projectWheel) {
  console.error(`need micropip-*.whl and ptbilling-*.whl in ${wheelsDir}; found: ${wheels.join(", ")}`);
  process.exit(2);
}

const timings = {};
let t = performance.now();
// No package may come from a network: every package load goes to a folder that does not exist.
const py = await loadPyodide({ packageBaseUrl: "file:///nonexistent/", stdout: () => {}, stderr: console.error });
timings.start_up = performance.now() - t;

t = performance.now();
await py.loadPackage(path.join(wheelsDir, micropipWheel), { messageCallback: () => {} });
py.FS.mkdirTree("/wheels");
py.FS.writeFile(`/wheels/${projectWheel}`, fs.readFileSync(path.join(wheelsDir, projectWheel)));
py.FS.writeFile("/home/pyodide/lite_harness.py", fs.readFileSync(harnessPath));
await py.runPythonAsync(`
import micropip
await micropip.install("emfs:/wheels/${projectWheel}", deps=True, index_urls=[])
`);
timings.install = performance.now() - t;

t = performance.now();
py.runPython("import ptbilling.excel_functions");
timings.import = performance.now() - t;

t = performance.now();
py.runPython("ptbilling.excel_functions.PT_UNITS([[24], [23]], [['97112'], ['97110']])");
timings.first_call = performance.now() - t;

// The cases: parsed by JavaScript and handed over as Lite hands Excel's values
// (a whole JS number becomes a Python int).
py.globals.set("cases", py.toPy(JSON.parse(fs.readFileSync(casesPath, "utf8"))));
t = performance.now();
const out = py.runPython(`
import json, sys
import micropip
import lite_harness
from ptbilling import excel_functions
from ptbilling.rules import datasets

results = {c["key"]: lite_harness.call_as_lite(excel_functions, c["func"], *c["args"]) for c in cases}
checks = {
    "platform": sys.platform,
    "python": sys.version.split()[0],
    "installed": sorted(p.name for p in micropip.list().values()),
    "loaded_third_party": sorted(m for m in ("platformdirs", "xlwings", "openpyxl", "python_calamine", "rich",
                                             "xlsxwriter", "defusedxml") if m in sys.modules),
    "user_data_dir": str(datasets.user_data_dir()),
    "release_origins": sorted({r.origin for r in datasets.releases()}),
}
json.dumps({"checks": checks, "results": results})
`);
timings.cases = performance.now() - t;

// Newer CMS data in Lite: a folder dropped into /data (Files > Import/Export) is seen at the next call.
const dropped = process.env.PTBILLING_LITE_DROP;
let afterDrop = null;
if (dropped) {
  for (const rel of fs.readdirSync(dropped, { recursive: true })) {
    const src = path.join(dropped, rel);
    if (fs.statSync(src).isDirectory()) continue;
    const dest = `/data/ptbilling/${rel}`;
    py.FS.mkdirTree(path.posix.dirname(dest));
    py.FS.writeFile(dest, fs.readFileSync(src));
  }
  afterDrop = JSON.parse(py.runPython(`
json.dumps({
    "release_origins": sorted({r.origin for r in datasets.releases()}),
    "fee": lite_harness.call_as_lite(excel_functions, "PT_FEE", [[97110]], [[1]], None,
                                     [[${Number(process.env.PTBILLING_LITE_DROP_SERIAL)}]]),
})
`));
}

const doc = JSON.parse(out);
console.log(JSON.stringify({ timings_ms: timings, pyodide: py.version, ...doc, after_drop: afterDrop }));
