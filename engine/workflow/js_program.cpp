// The program node runs for every script or batch of JavaScript expressions (docs/javascript.md).
// It reads one JSON request on stdin and writes one JSON line on stdout. User code runs in a fresh
// vm context that holds no object of node's own realm: the run's context crosses as a JSON string
// and the answer leaves as one, so nothing inside can reach `require`, `process` or a host
// function's constructor. eval/Function are off in that context, microtasks run inside its time
// bound, and the kernel limits (rlimits, no files, own process group) come from js_process.
#include "engine/workflow/js_program.hpp"

namespace orbitmesh::engine {

const char* js_sandbox_program() {
    return R"JS(
'use strict';
const vm = require('vm');
const PRELUDE = `
var __logs = [], __log_bytes = 0;
const __stringify = JSON.stringify, __String = String;
function __text(args) {
  return args.map(function (a) {
    if (typeof a === 'string') return a;
    try { var s = __stringify(a); return s === undefined ? __String(a) : s; } catch (e) { return __String(a); }
  }).join(' ');
}
function __push(level, args) {
  var line = __text(Array.prototype.slice.call(args));
  if (__log_bytes > __log_limit) return;
  __log_bytes += line.length;
  __logs.push(__log_bytes > __log_limit ? '(more log lines were dropped)' : (level === 'log' ? line : level + ': ' + line));
}
var console = {
  log: function () { __push('log', arguments); }, info: function () { __push('log', arguments); },
  debug: function () { __push('log', arguments); }, warn: function () { __push('warn', arguments); },
  error: function () { __push('error', arguments); }
};
var __context = JSON.parse(__in);
delete globalThis.__in;
function __failure(e) {
  var out = { message: 'uncaught exception', line: 0, column: 0 };
  try {
    if (e !== null && typeof e === 'object' && 'message' in e) out.message = __String(e.name || 'Error') + ': ' + __String(e.message);
    else out.message = 'uncaught ' + __String(e);
  } catch (x) {}
  try {
    var m = /\\((?:script|expr\\d+):(\\d+):(\\d+)\\)|at (?:script|expr\\d+):(\\d+):(\\d+)/.exec(__String(e && e.stack));
    if (m) { out.line = +(m[1] || m[3]); out.column = +(m[2] || m[4]); }
  } catch (x) {}
  return { ok: false, error: out };
}
function __finish(r) {
  r.logs = __logs;
  try { return __stringify(r, function (k, v) { return typeof v === 'bigint' ? __String(v) : v; }); }
  catch (e) { return __stringify({ ok: false, error: { message: 'the result cannot be turned into JSON: ' + __String(e && e.message), line: 0, column: 0 }, logs: __logs }); }
}
`;

// WHATWG's URL is not ECMAScript, but the original's scripts parse endpoints with it: a small
// URL and URLSearchParams for scheme://host URLs, written here and evaluated inside the context.
const URL_SHIM = String.raw`
var URLSearchParams = (function () {
  function URLSearchParams(init) {
    this.__pairs = [];
    var s = String(init === undefined ? '' : init).replace(/^\?/, '');
    if (s === '') return;
    s.split('&').forEach(function (kv) {
      if (kv === '') return;
      var i = kv.indexOf('='), dec = function (x) { return decodeURIComponent(x.replace(/\+/g, ' ')); };
      this.__pairs.push(i < 0 ? [dec(kv), ''] : [dec(kv.slice(0, i)), dec(kv.slice(i + 1))]);
    }, this);
  }
  URLSearchParams.prototype.get = function (k) { var p = this.__pairs.find(function (x) { return x[0] === k; }); return p ? p[1] : null; };
  URLSearchParams.prototype.getAll = function (k) { return this.__pairs.filter(function (x) { return x[0] === k; }).map(function (x) { return x[1]; }); };
  URLSearchParams.prototype.has = function (k) { return this.__pairs.some(function (x) { return x[0] === k; }); };
  URLSearchParams.prototype.forEach = function (fn) { this.__pairs.forEach(function (x) { fn(x[1], x[0]); }); };
  URLSearchParams.prototype.toString = function () {
    return this.__pairs.map(function (x) { return encodeURIComponent(x[0]) + '=' + encodeURIComponent(x[1]); }).join('&');
  };
  return URLSearchParams;
})();
var URL = (function () {
  var DEFAULT_PORTS = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21' };
  var FORM = /^([a-zA-Z][a-zA-Z0-9+.\-]*:)\/\/(?:([^:@\/?#]*)(?::([^@\/?#]*))?@)?(\[[0-9a-fA-F:.]*\]|[^:\/?#]*)(?::(\d*))?([^?#]*)(\?[^#]*)?(#.*)?$/;
  function URL(input, base) {
    if (!new.target) throw new TypeError("Class constructor URL cannot be invoked without 'new'");
    var s = String(input).trim();
    if (base !== undefined && !/^[a-zA-Z][a-zA-Z0-9+.\-]*:/.test(s)) {
      var b = new URL(base);
      s = b.protocol + '//' + b.host + (s.charAt(0) === '/' ? s : b.pathname.replace(/[^\/]*$/, '') + s);
    }
    var m = FORM.exec(s);
    if (!m || m[4] === '') throw new TypeError('Invalid URL: ' + s);
    this.protocol = m[1].toLowerCase();
    this.username = m[2] || '';
    this.password = m[3] || '';
    this.hostname = m[4].toLowerCase();
    this.port = m[5] && m[5] !== DEFAULT_PORTS[this.protocol] ? String(+m[5]) : '';
    this.pathname = m[6] || '/';
    this.search = m[7] && m[7] !== '?' ? m[7] : '';
    this.hash = m[8] && m[8] !== '#' ? m[8] : '';
    this.host = this.hostname + (this.port ? ':' + this.port : '');
    this.origin = this.protocol + '//' + this.host;
    this.href = this.protocol + '//' + (this.username ? this.username + (this.password ? ':' + this.password : '') + '@' : '') +
                this.host + this.pathname + this.search + this.hash;
    this.searchParams = new URLSearchParams(this.search);
  }
  URL.prototype.toString = function () { return this.href; };
  URL.prototype.toJSON = function () { return this.href; };
  return URL;
})();
`;

function located(e, fallback) {
  const m = /^(?:script|expr\d+):(\d+)/.exec(String(e.stack));
  return { message: 'SyntaxError: ' + e.message, line: m ? +m[1] : fallback, column: 0 };
}

function run_script(ctx, req, timeout) {
  const src = '__finish((function () { try { return { ok: true, value: (function (context) {\n' + req.code +
              '\n}).call(undefined, __context) }; } catch (e) { return __failure(e); } })())';
  let script;
  try { script = new vm.Script(src, { filename: 'script', lineOffset: -1 }); }
  catch (e) { return JSON.stringify({ ok: false, error: located(e, 0), logs: [] }); }
  return script.runInContext(ctx, { timeout });
}

function run_exprs(ctx, req, deadline) {
  vm.runInContext('var __results = []; var __scope = Object.assign(Object.create(null), __context, { context: __context });', ctx);
  req.exprs.forEach(function (x, i) {
    const left = Math.max(1, deadline - Date.now());
    const src = '__results.push((function () { try { return { ok: true, value: (function () { with (__scope) { return (\n' + x +
                '\n); } })() }; } catch (e) { return __failure(e); } })())';
    let script;
    try { script = new vm.Script(src, { filename: 'expr' + i, lineOffset: -1 }); }
    catch (e) { vm.runInContext('__results.push(' + JSON.stringify({ ok: false, error: located(e, 1) }) + ')', ctx); return; }
    script.runInContext(ctx, { timeout: left });
  });
  return vm.runInContext('__finish({ ok: true, results: __results })', ctx, { timeout: Math.max(1, deadline - Date.now()) });
}

// Compiles without running (workflow validate): each item is {script} or {expr}.
function check(req) {
  return JSON.stringify({ ok: true, results: req.items.map(function (it) {
    const src = it.script !== undefined ? '(function (context) {\n' + it.script + '\n})' : '(function () { with (__scope) { return (\n' + it.expr + '\n); } })';
    try { new vm.Script(src, { filename: 'script', lineOffset: -1 }); return { ok: true }; }
    catch (e) { return { ok: false, error: located(e, 1) }; }
  }) });
}

function handle(req) {
  if (req.mode === 'check') return check(req);
  const start = Date.now();
  const timeout = Math.max(1, req.timeout_ms | 0);
  const ctx = vm.createContext(Object.create(null), {
    name: 'orbitmesh', codeGeneration: { strings: false, wasm: false }, microtaskMode: 'afterEvaluate'
  });
  ctx.__in = JSON.stringify(req.context === undefined ? null : req.context);
  ctx.__log_limit = req.max_log_bytes | 0;
  vm.runInContext(PRELUDE, ctx, { filename: 'prelude', timeout });
  vm.runInContext(URL_SHIM, ctx, { filename: 'prelude', timeout });
  try {
    const out = req.mode === 'script' ? run_script(ctx, req, timeout) : run_exprs(ctx, req, start + timeout);
    if (typeof out !== 'string') return JSON.stringify({ ok: false, error: { message: 'the script replaced JSON.stringify', line: 0, column: 0 } });
    return out;
  } catch (e) {
    if (e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return JSON.stringify({ ok: false, timeout: true, error: { message: 'timeout', line: 0, column: 0 } });
    return JSON.stringify({ ok: false, error: { message: 'sandbox: ' + String(e && e.message), line: 0, column: 0 } });
  }
}

const chunks = [];
process.stdin.on('data', function (c) { chunks.push(c); });
process.stdin.on('end', function () {
  let out;
  try { out = handle(JSON.parse(Buffer.concat(chunks).toString('utf8'))); }
  catch (e) { out = JSON.stringify({ ok: false, error: { message: 'sandbox: ' + String(e && e.message), line: 0, column: 0 } }); }
  process.stdout.write(out + '\n');
});
)JS";
}

}  // namespace orbitmesh::engine
