"""Runwise tracking client: log to a Runwise (or any MLflow) tracking endpoint without the mlflow package.

Usage (standard library only, Python 3.8+): copy this file next to your script, or put its folder on
sys.path, then
    import runwise_tracking as rw
    rw.log_params({"lr": 0.01}); rw.log_metric("loss", 0.3, step=1); rw.log_artifact("model.pt")
It reads MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, MLFLOW_RUN_ID and MLFLOW_EXPERIMENT_NAME/_ID (neither:
MLflow's default experiment, id "0"). Logging is buffered and sent in batches (at most 1 s late); everything
is flushed at end_run() and at exit. A run this module created is ended at exit: FINISHED, or FAILED after an
uncaught exception or sys.exit() with a non-zero status; KILLED by SIGTERM when the program has no handler
of its own for it (the process then still dies by the signal).
"""

import atexit
import errno
import http.client
import json
import math
import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = [
    "RunwiseTrackingError",
    "start_run",
    "log_param",
    "log_params",
    "log_metric",
    "log_metrics",
    "set_tag",
    "set_tags",
    "log_input",
    "log_artifact",
    "flush",
    "end_run",
    "active_run_id",
]

# MLflow's limits for one runs/log-batch request.
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_BATCH_BYTES = 1000 * 1000  # the server takes 1 MiB; stay below it with room for the envelope
FLUSH_INTERVAL = 1.0  # seconds from the first buffered item to its batch being sent
REQUEST_TIMEOUT = 60.0
RETRY_DELAYS = (0.25, 0.75, 2.0)  # seconds before the 2nd, 3rd and 4th attempt
TERMINAL_STATUSES = ("FINISHED", "FAILED", "KILLED")
DEFAULT_EXPERIMENT_ID = "0"  # MLflow's default experiment, whatever it has been renamed to
# System tags (core/tracker/model.ts names them for the Node client).
SOURCE_TYPE_TAG = "mlflow.source.type"
SOURCE_NAME_TAG = "mlflow.source.name"
USER_TAG = "mlflow.user"
DATASET_CONTEXT_TAG = "mlflow.data.context"


class RunwiseTrackingError(Exception):
    """An error answered by the tracking server (or the failure to reach it)."""

    def __init__(self, error_code, message, http_status=None):
        super().__init__("%s: %s%s" % (error_code, message, " (HTTP %s)" % http_status if http_status else ""))
        self.error_code = error_code
        self.message = message
        self.http_status = http_status


# ---------------------------------------------------------------------------------------------------
# HTTP


_LOOPBACK = ("localhost", "127.0.0.1", "::1")

# How a request failed, from surely-not-applied to maybe-applied; `retry_on` names those worth a retry.
REFUSED, RESET, TIMEOUT = "refused", "reset", "timeout"
ALWAYS = (REFUSED, RESET, TIMEOUT)


def _failure_kind(exc):
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (ConnectionRefusedError, socket.gaierror)):
        return REFUSED
    if isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return REFUSED
    if isinstance(reason, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http.client.HTTPException)):
        return RESET
    return TIMEOUT  # socket.timeout and anything unknown: the server may have applied the request


def _error_from_response(status, body):
    try:
        data = json.loads(body.decode("utf-8") or "{}")
        if isinstance(data, dict) and data.get("error_code"):
            return RunwiseTrackingError(str(data["error_code"]), str(data.get("message", "")), status)
    except ValueError:
        pass
    code = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "ENDPOINT_NOT_FOUND"}.get(
        status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST"
    )
    text = body.decode("utf-8", "replace").strip()[:500]
    return RunwiseTrackingError(code, text or "HTTP %s with no message" % status, status)


class _Http:
    def __init__(self, tracking_uri, token):
        parsed = urllib.parse.urlparse(tracking_uri)
        if parsed.scheme not in ("http", "https"):
            raise RunwiseTrackingError(
                "INVALID_TRACKING_URI",
                "MLFLOW_TRACKING_URI must be an http(s) URL of a tracking endpoint (got %r); "
                "this client does not write to files or databases directly" % tracking_uri,
            )
        self.base = tracking_uri.rstrip("/")
        self.token = token
        handlers = []
        if parsed.hostname in _LOOPBACK or (parsed.hostname or "").startswith("127."):
            handlers.append(urllib.request.ProxyHandler({}))  # never send loopback traffic to a proxy
        self.opener = urllib.request.build_opener(*handlers)

    def call(self, method, path, body=None, data=None, content_type="application/json", retry_on=ALWAYS):
        """One request, retried with backoff; returns the decoded JSON answer.

        Retry policy. Answers 429/503 (busy, nothing done) and REFUSED failures (connection refused, name
        not resolved: the request never reached the server) are retried for every request. RESET (the
        connection broke before an answer) is retried for every request but runs/create: on a local
        endpoint it means the server went away mid-request, and its transaction was rolled back. TIMEOUT
        (no answer in time: the server is probably still applying the request) is retried only for
        idempotent requests: reads, params (the same key and value is accepted again), tags, status
        updates, inputs, artifact uploads. A log-batch carrying metrics is not retried after a timeout,
        because metric points are append-only on the server and the retry could store the whole batch
        twice; it raises instead, so a possibly lost batch is reported, never silently doubled.
        runs/create is retried only when REFUSED (a retry could create a second run).
        """
        url = self.base + path
        if body is not None:
            data = json.dumps(body, allow_nan=False).encode("utf-8")
        # The pid makes this process the owner of the runs it creates or resumes: the endpoint marks them
        # FAILED once it is gone (and checks that this process holds the connection). Read per request,
        # so a forked child names itself.
        headers = {"Accept": "application/json", "X-Runwise-Client-Pid": str(os.getpid())}
        if data is not None:
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        attempt = 0
        while True:
            req = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with self.opener.open(req, timeout=REQUEST_TIMEOUT) as resp:
                    raw = resp.read()
                    return json.loads(raw.decode("utf-8")) if raw.strip() else {}
            except urllib.error.HTTPError as e:
                raw = e.read() if e.fp is not None else b""
                if e.code not in (429, 503):
                    raise _error_from_response(e.code, raw) from None
                reason = "HTTP %s" % e.code
            except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
                kind = _failure_kind(e)
                reason = "%s (%s)" % (getattr(e, "reason", None) or e, kind)
                if kind not in retry_on:
                    raise RunwiseTrackingError(
                        "NETWORK_ERROR", "%s %s failed: %s; not retried, it may have been applied" % (method, path, reason)
                    ) from None
            if attempt >= len(RETRY_DELAYS):
                raise RunwiseTrackingError(
                    "NETWORK_ERROR", "%s %s failed after %d attempts: %s" % (method, path, attempt + 1, reason)
                )
            time.sleep(RETRY_DELAYS[attempt])
            attempt += 1


# ---------------------------------------------------------------------------------------------------
# Values


def _metric_value(value):
    v = float(value)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def _now_ms():
    return int(time.time() * 1000)


def _size(entity):
    return len(json.dumps(entity, allow_nan=False).encode("utf-8")) + 1  # + the comma


# ---------------------------------------------------------------------------------------------------
# Client


class _Client:
    def __init__(self):
        self._buf_lock = threading.Condition(threading.RLock())  # guards the buffer
        self._send_lock = threading.RLock()  # one sender at a time, so batches keep their order
        self._reset_state()

    def _reset_state(self):
        self._http = None
        self._run_id = None
        self._experiment_id = None
        self._artifact_root = None
        self._owned = False  # created here, so ended here at exit
        self._metrics = []  # [(entity, size)]
        self._params = {}  # key -> (entity, size): a key twice in one batch is refused by the server
        self._tags = {}  # key -> (entity, size): last value wins, as it would on the server
        self._bytes = 0
        self._first_at = None  # monotonic time of the oldest buffered item
        self._deferred = None  # an error from the background flush, raised by the next call
        self._timer = None
        self._pid = os.getpid()

    # --- configuration

    def _conn(self):
        if self._http is None:
            uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
            if not uri:
                raise RunwiseTrackingError(
                    "MISSING_TRACKING_URI",
                    "MLFLOW_TRACKING_URI is not set. Run this script from Runwise, or set it to the tracking "
                    "endpoint (e.g. MLFLOW_TRACKING_URI=http://127.0.0.1:5123, plus MLFLOW_TRACKING_TOKEN).",
                )
            self._http = _Http(uri, os.environ.get("MLFLOW_TRACKING_TOKEN") or None)
        return self._http

    def _raise_deferred(self):
        err, self._deferred = self._deferred, None
        if err is not None:
            raise err

    # --- runs

    def start_run(self, run_name=None, experiment_name=None, tags=None):
        self._raise_deferred()
        with self._send_lock:
            if self._run_id is not None:
                raise RunwiseTrackingError(
                    "INVALID_STATE", "run %s is already active; call end_run() first" % self._run_id
                )
            http = self._conn()
            _install_signal_handler()
            given = os.environ.get("MLFLOW_RUN_ID", "").strip()
            if given:
                self._run_id, self._owned = given, False
                if tags:
                    self.log("tag", [{"key": str(k), "value": str(v)} for k, v in tags.items()])
                return given
            exp_id = self._experiment(http, experiment_name)
            all_tags = {SOURCE_TYPE_TAG: "LOCAL"}
            if sys.argv and sys.argv[0]:
                all_tags[SOURCE_NAME_TAG] = os.path.abspath(sys.argv[0])
            user = os.environ.get("USER") or os.environ.get("USERNAME") or ""
            if user:
                all_tags[USER_TAG] = user
            all_tags.update({str(k): str(v) for k, v in (tags or {}).items()})
            body = {
                "experiment_id": exp_id,
                "start_time": _now_ms(),
                "user_id": user,
                "tags": [{"key": k, "value": v} for k, v in all_tags.items()],
            }
            if run_name:
                body["run_name"] = str(run_name)
            info = http.call("POST", "/api/2.0/mlflow/runs/create", body, retry_on=(REFUSED,))["run"]["info"]
            self._run_id = info.get("run_id") or info.get("run_uuid")
            self._experiment_id = info.get("experiment_id", exp_id)
            self._artifact_root = _artifact_root(info)
            self._owned = True
            return self._run_id

    def _experiment(self, http, name):
        if not name:
            env_id = os.environ.get("MLFLOW_EXPERIMENT_ID", "").strip()
            if env_id:
                return env_id
            name = os.environ.get("MLFLOW_EXPERIMENT_NAME", "").strip()
            if not name:
                return DEFAULT_EXPERIMENT_ID
        for _ in range(2):
            try:
                q = urllib.parse.urlencode({"experiment_name": name})
                experiment = http.call("GET", "/api/2.0/mlflow/experiments/get-by-name?" + q)["experiment"]
                if experiment.get("lifecycle_stage") == "deleted":  # refused as MLflow's set_experiment does
                    raise RunwiseTrackingError(
                        "INVALID_PARAMETER_VALUE",
                        "Cannot set a deleted experiment '%s' as the active experiment. You can restore the "
                        "experiment, or permanently delete the experiment to create a new one."
                        % experiment.get("name", name),
                    )
                return experiment["experiment_id"]
            except RunwiseTrackingError as e:
                if e.error_code != "RESOURCE_DOES_NOT_EXIST":
                    raise
            try:
                return http.call("POST", "/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"]
            except RunwiseTrackingError as e:
                if e.error_code != "RESOURCE_ALREADY_EXISTS":  # created meanwhile by someone else: look again
                    raise
        raise RunwiseTrackingError("INTERNAL_ERROR", "could not get or create experiment %r" % name)

    def _ensure_run(self):
        if os.getpid() != self._pid:
            self._after_fork()
        if self._run_id is None:
            self.start_run()
        return self._run_id

    def end_run(self, status="FINISHED"):
        if status not in TERMINAL_STATUSES:
            raise ValueError("status must be one of %s" % (TERMINAL_STATUSES,))
        with self._send_lock:
            if self._run_id is None:
                self._raise_deferred()
                return
            try:
                self._flush_all()
                self._raise_deferred()
            finally:
                # A run given by MLFLOW_RUN_ID belongs to whoever launched this process: it ends it.
                if self._owned:
                    self._conn().call(
                        "POST",
                        "/api/2.0/mlflow/runs/update",
                        {"run_id": self._run_id, "status": status, "end_time": _now_ms()},
                    )
                self._run_id = self._experiment_id = self._artifact_root = None
                self._owned = False

    def active_run_id(self):
        return self._run_id

    # --- buffered logging

    def _add(self, kind, entity, force=False):
        """Buffers one entity; True when the buffer now holds a full batch, None when it is a param whose
        earlier, different value is still buffered (the server refuses both in one request)."""
        size = _size(entity)
        with self._buf_lock:
            if kind == "metric":
                self._metrics.append((entity, size))
            else:
                table = self._params if kind == "param" else self._tags
                prior = table.get(entity["key"])
                if prior is not None:
                    if kind == "param" and prior[0]["value"] == entity["value"]:
                        return False
                    if kind == "param" and not force:
                        return None
                    self._bytes -= prior[1]
                    del table[entity["key"]]  # a tag set again: last value wins, as on the server
                table[entity["key"]] = (entity, size)
            self._bytes += size
            if self._first_at is None:
                self._first_at = time.monotonic()
                self._buf_lock.notify_all()
            n_p, n_t, n_m = len(self._params), len(self._tags), len(self._metrics)
            return (
                n_m >= MAX_METRICS_PER_BATCH
                or n_p >= MAX_PARAMS_PER_BATCH
                or n_t >= MAX_TAGS_PER_BATCH
                or n_m + n_p + n_t >= MAX_ENTITIES_PER_BATCH
                or self._bytes >= MAX_BATCH_BYTES
            )

    def log(self, kind, entities):
        self._raise_deferred()
        self._ensure_run()
        self._ensure_timer()
        for e in entities:
            full = self._add(kind, e)
            if full is None:  # send the first value, then let the server judge the change
                self._flush_all()
                full = self._add(kind, e, force=True)
            if full:
                self._flush_all()

    def _take_batch(self):
        """Removes one request's worth of entities from the buffer (under _buf_lock)."""
        budget = MAX_BATCH_BYTES - 200
        taken = {"params": [], "tags": [], "metrics": []}
        count = 0
        for name, table, limit in (("params", self._params, MAX_PARAMS_PER_BATCH), ("tags", self._tags, MAX_TAGS_PER_BATCH)):
            for key in list(table.keys()):
                entity, size = table[key]
                if len(taken[name]) >= limit or count >= MAX_ENTITIES_PER_BATCH or (size > budget and count > 0):
                    break
                del table[key]
                taken[name].append(entity)
                budget -= size
                self._bytes -= size
                count += 1
        i = 0
        while i < len(self._metrics) and count < MAX_ENTITIES_PER_BATCH and len(taken["metrics"]) < MAX_METRICS_PER_BATCH:
            entity, size = self._metrics[i]
            if size > budget and count > 0:
                break
            taken["metrics"].append(entity)
            budget -= size
            self._bytes -= size
            count += 1
            i += 1
        del self._metrics[:i]
        if not self._metrics and not self._params and not self._tags:
            self._first_at = None
            self._bytes = 0
        return taken if count else None

    def _flush_all(self):
        with self._send_lock:
            while True:
                with self._buf_lock:
                    if self._run_id is None:
                        return
                    batch = self._take_batch()
                    run_id = self._run_id
                if batch is None:
                    return
                batch["run_id"] = run_id
                self._conn().call(
                    "POST", "/api/2.0/mlflow/runs/log-batch", batch, retry_on=(REFUSED, RESET) if batch["metrics"] else ALWAYS
                )

    def flush(self):
        self._flush_all()
        self._raise_deferred()

    # --- background flush

    def _ensure_timer(self):
        if self._timer is not None and self._timer.is_alive():
            return
        try:
            t = threading.Thread(target=self._timer_loop, name="runwise-tracking-flush", daemon=True)
            t.start()
            self._timer = t
        except RuntimeError:  # interpreter shutting down: the atexit flush takes care of the rest
            pass

    def _timer_loop(self):
        while True:
            with self._buf_lock:
                if self._first_at is None:
                    self._buf_lock.wait()
                    continue
                remaining = self._first_at + FLUSH_INTERVAL - time.monotonic()
                if remaining > 0:
                    self._buf_lock.wait(remaining)
                    continue
            try:
                self._flush_all()
            except Exception as e:  # kept for the next call to raise; never kills the thread
                self._deferred = e if isinstance(e, RunwiseTrackingError) else RunwiseTrackingError(
                    "INTERNAL_ERROR", repr(e)
                )

    # --- inputs and artifacts (sent at once)

    def log_input(self, name, digest, source="", source_type="local", schema=None, context=None, profile=None):
        self._raise_deferred()
        run_id = self._ensure_run()
        dataset = {"name": str(name), "digest": str(digest), "source_type": str(source_type), "source": str(source)}
        if schema is not None:
            dataset["schema"] = schema if isinstance(schema, str) else json.dumps(schema)
        if profile is not None:
            dataset["profile"] = profile if isinstance(profile, str) else json.dumps(profile)
        tags = [{"key": DATASET_CONTEXT_TAG, "value": str(context)}] if context else []
        self._conn().call(
            "POST", "/api/2.0/mlflow/runs/log-inputs", {"run_id": run_id, "datasets": [{"tags": tags, "dataset": dataset}]}
        )

    def log_artifact(self, local_path, artifact_path=None):
        self._raise_deferred()
        if not os.path.exists(local_path):
            raise FileNotFoundError(local_path)
        run_id = self._ensure_run()
        root = self._artifact_root_for(run_id)
        dest_dir = (artifact_path or "").strip("/")
        base = os.path.basename(os.path.normpath(local_path))
        if os.path.isdir(local_path):
            files = []
            for d, _, names in os.walk(local_path):
                for n in sorted(names):
                    full = os.path.join(d, n)
                    rel = os.path.relpath(full, local_path).replace(os.sep, "/")
                    files.append((full, base + "/" + rel))
        else:
            files = [(local_path, base)]
        for full, rel in files:
            dest = (dest_dir + "/" + rel) if dest_dir else rel
            with open(full, "rb") as f:
                data = f.read()
            url_path = "/api/2.0/mlflow-artifacts/artifacts/%s/%s" % (root, urllib.parse.quote(dest))
            self._conn().call("PUT", url_path, data=data, content_type="application/octet-stream")

    def _artifact_root_for(self, run_id):
        if self._artifact_root is None:
            q = urllib.parse.urlencode({"run_id": run_id})
            info = self._conn().call("GET", "/api/2.0/mlflow/runs/get?" + q)["run"]["info"]
            self._artifact_root = _artifact_root(info)
        return self._artifact_root

    # --- exit and fork

    def _after_fork(self):
        # A forked child keeps the parent's run but not its buffer (the parent sends that) nor its run:
        # the child never ends it.
        self._buf_lock = threading.Condition(threading.RLock())
        self._send_lock = threading.RLock()
        run_id, http, exp, root = self._run_id, self._http, self._experiment_id, self._artifact_root
        self._reset_state()
        self._run_id, self._http, self._experiment_id, self._artifact_root = run_id, http, exp, root

    def at_exit(self, status):
        """Flushes, and ends an owned run as `status`."""
        if os.getpid() != self._pid:
            return
        try:
            self._flush_all()
        except Exception as e:
            sys.stderr.write("runwise_tracking: could not send the last logged values: %s\n" % e)
        if self._deferred is not None:
            sys.stderr.write("runwise_tracking: %s\n" % self._deferred)
            self._deferred = None
        if self._run_id is not None and self._owned:
            try:
                self.end_run(status)
            except Exception as e:
                sys.stderr.write("runwise_tracking: could not end run %s: %s\n" % (self._run_id, e))


def _artifact_root(info):
    uri = info.get("artifact_uri") or ""
    if uri.startswith("mlflow-artifacts:"):
        rest = uri[len("mlflow-artifacts:"):]
        if rest.startswith("//"):  # mlflow-artifacts://host:port/path
            rest = rest[2:].partition("/")[2]
        rest = rest.strip("/")
        if rest:
            return rest
    return "%s/%s/artifacts" % (info.get("experiment_id"), info.get("run_id") or info.get("run_uuid"))


# ---------------------------------------------------------------------------------------------------
# Module-level API (one client per process)

_client = _Client()
_crashed = [False]
_exit_status = [None]  # the argument of the last sys.exit()
_previous_excepthook = sys.excepthook
_original_exit = sys.exit


def _excepthook(exc_type, exc, tb):
    _crashed[0] = True
    _previous_excepthook(exc_type, exc, tb)


sys.excepthook = _excepthook


def _exit(status=None):
    # SystemExit never reaches sys.excepthook, nor does atexit see the exit status: note it here.
    _exit_status[0] = status
    _original_exit(status)


sys.exit = _exit


def _at_exit():
    # sys.last_type is also set for an uncaught exception, should the script replace sys.excepthook.
    crashed = _crashed[0] or (getattr(sys, "last_type", None) is not None and not hasattr(sys, "ps1"))
    # As MLflow's `with start_run()`: an exit with a non-zero status (or a message) fails the run.
    status = _exit_status[0]
    failed_exit = status is not None and status != 0
    _client.at_exit("FAILED" if crashed or failed_exit else "FINISHED")


atexit.register(_at_exit)
_sigterm_installed = [False]


def _on_sigterm(signum, frame):
    # Send what is left and end an owned run KILLED, then die by the signal as without this module.
    try:
        _client.at_exit("KILLED")
    finally:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _install_signal_handler():
    """SIGTERM (a scheduler's preemption) flushes and ends the run KILLED, unless the program handles it
    itself. Only from the main thread, and only over the default disposition (Ctrl+C needs nothing:
    KeyboardInterrupt reaches the exit flush)."""
    if _sigterm_installed[0] or not hasattr(signal, "SIGTERM"):
        return
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
            _sigterm_installed[0] = True
    except (ValueError, OSError):  # not the main interpreter, or no such signal here
        pass


_install_signal_handler()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _client._after_fork())


def start_run(run_name=None, experiment_name=None, tags=None):
    """Starts the run to log into and returns its id: MLFLOW_RUN_ID when set, else a new run in
    `experiment_name` (or MLFLOW_EXPERIMENT_NAME, MLFLOW_EXPERIMENT_ID, or MLflow's default experiment, id
    "0"), creating the experiment if needed; a deleted experiment is refused, as MLflow's set_experiment
    does. Logging without start_run() starts a run implicitly."""
    return _client.start_run(run_name, experiment_name, tags)


def log_param(key, value):
    _client.log("param", [{"key": str(key), "value": str(value)}])


def log_params(params):
    _client.log("param", [{"key": str(k), "value": str(v)} for k, v in params.items()])


def log_metric(key, value, step=None, timestamp=None):
    entity = {
        "key": str(key),
        "value": _metric_value(value),
        "timestamp": int(timestamp) if timestamp is not None else _now_ms(),
        "step": int(step) if step is not None else 0,
    }
    _client.log("metric", [entity])


def log_metrics(metrics, step=None):
    ts = _now_ms()
    s = int(step) if step is not None else 0
    _client.log("metric", [{"key": str(k), "value": _metric_value(v), "timestamp": ts, "step": s} for k, v in metrics.items()])


def set_tag(key, value):
    _client.log("tag", [{"key": str(key), "value": str(value)}])


def set_tags(tags):
    _client.log("tag", [{"key": str(k), "value": str(v)} for k, v in tags.items()])


def log_input(name, digest, source="", source_type="local", schema=None, context=None, profile=None):
    """Records a dataset the run used (runs/log-inputs); `context` is e.g. 'training' or 'eval'."""
    _client.log_input(name, digest, source, source_type, schema, context, profile)


def log_artifact(local_path, artifact_path=None):
    """Uploads a file (or a directory, recursively) into the run's artifacts, under `artifact_path`."""
    _client.log_artifact(local_path, artifact_path)


def flush():
    """Sends everything buffered now; raises the first error the background sender met since."""
    _client.flush()


def end_run(status="FINISHED"):
    """Flushes, and ends the run if this module created it (a run from MLFLOW_RUN_ID is left to its owner)."""
    _client.end_run(status)


def active_run_id():
    return _client.active_run_id()
