"""A Python client for a deployer server (DESIGN 1.13), standard library only; numpy arrays go in and come out
when numpy is installed.

    from deployer_client import Client
    c = Client("http://127.0.0.1:8080", token)       # or Client() to use `deployer login`'s file / the environment
    c.deploy("cells/iris", wait=60)
    c.predict("iris", {"features": [5.1, 3.5, 1.4, 0.2]})
    c.infer("iris-onnx", {"input": np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)})

Every failure raises DeployerError carrying the server's message and the HTTP status.
"""

import json
import os
import secrets
import struct
import sys
import urllib.error
import urllib.parse
import urllib.request

from . import _pack, _target
from ._pack import PackError

try:
    import numpy as _np
except ImportError:  # numpy is optional: without it tensors come back as plain lists
    _np = None

__all__ = ["Client", "DeployerError", "PackError"]

CHUNK = 1 << 16

# OIP V2 datatypes and the numpy types they round-trip with.
_DTYPES = {"BOOL": "bool", "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64",
           "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64", "FP16": "float16",
           "FP32": "float32", "FP64": "float64", "BYTES": "object"}


class DeployerError(Exception):
    """What the server answered instead of success: its own message (the "error" of its JSON), the HTTP status
    (None when the server could not be reached), and the answer's body; a deploy that ended FAILED also carries
    the deployment object."""

    def __init__(self, message, status=None, body=None, deployment=None):
        super().__init__(message if status is None else "%s (HTTP %d)" % (message, status))
        self.message = message
        self.status = status
        self.body = body
        self.deployment = deployment


class Client:
    """One deployer server. `url` and `token` default to what the Java client would use: DEPLOYER_SERVER /
    DEPLOYER_TOKEN, then the file `deployer login` wrote, then ./deployer-data."""

    def __init__(self, url=None, token=None, timeout=90.0):
        try:
            self.url, self.token = _target.resolve(url, token)
        except ValueError as e:
            raise DeployerError(str(e)) from None
        self.timeout = timeout

    def __repr__(self):
        return "Client(%r)" % self.url

    # -- the management API -------------------------------------------------------------------------------

    def models(self):
        """Every model with its active version: [{"name", "version", "state", "port", "url", "deploy_id"}]."""
        return self._call("GET", "/api/models")

    def model(self, name):
        """One model and every version: {"name", "active", "versions"}."""
        return self._call("GET", "/api/models/" + _name(name))

    def status(self, deploy_id):
        """One deployment (one uploaded version)."""
        return self._call("GET", "/api/deployments/%d" % int(deploy_id))

    def activate(self, name, version):
        """Makes an uploaded version the one that serves (a hot swap); answers its deployment object."""
        return self._call("POST", "/api/models/%s/versions/%d/activate" % (_name(name), int(version)))

    def stop(self, name):
        return self._call("POST", "/api/models/%s/stop" % _name(name))

    def start(self, name):
        return self._call("POST", "/api/models/%s/start" % _name(name))

    def restart(self, name):
        return self._call("POST", "/api/models/%s/restart" % _name(name))

    def delete(self, name, purge=False):
        """Stops the model and removes it (purge=True also deletes its files on the server)."""
        self._call("DELETE", "/api/models/%s%s" % (_name(name), "?purge=true" if purge else ""))

    def delete_version(self, name, version):
        """Deletes one version that does not serve (FAILED, RETIRED, or stopped and not active), with its files."""
        self._call("DELETE", "/api/models/%s/versions/%d" % (_name(name), int(version)))

    def events(self, name=None, limit=100):
        """The audit log, newest first: [{"time", "model", "version", "deploy_id", "kind", "message"}]."""
        query = {"limit": int(limit)}
        if name is not None:
            query["model"] = _name(name)
        return self._call("GET", "/api/events?" + urllib.parse.urlencode(query))

    def logs(self, name, since=None):
        """The model's own log lines, oldest first: [{"seq", "time", "level", "version", "logger", "message"}]."""
        return self._call("GET", "/api/models/%s/logs%s" % (_name(name), "" if since is None
                                                             else "?since=%d" % int(since)))

    # -- deploying ----------------------------------------------------------------------------------------

    def deploy(self, path, wait=60, report=sys.stderr):
        """Uploads a model: a folder is packed as the Java client packs it (deploy.json and the files its "files"
        globs mark deployable; the lines saying what was packed and left out go to `report`), an archive
        (.zip/.tar.gz) is sent as it is. The package is streamed from a file, never held in memory.

        With `wait` seconds (default 60) answers the final deployment object, and raises DeployerError when it
        ended FAILED; with wait=0 answers as soon as the server has the package ({"deploy_id", ...})."""
        # Before packing: a wrong token or a server that is not there must not cost the packing first.
        self._call("GET", "/api/events?limit=1")
        temporary = None
        if os.path.isdir(path):
            packed = _pack.pack(path)
            temporary = archive = packed.archive
            filename = packed.manifest["name"] + ".zip"
            if report is not None:
                for line in packed.report():
                    print(line, file=report)
        elif os.path.isfile(path) and path.lower().endswith((".zip", ".tar.gz", ".tgz")):
            archive, filename = path, os.path.basename(path)
        else:
            raise PackError("%s is neither a folder with deploy.json nor a .zip or .tar.gz" % path)
        try:
            query = "?wait=%d" % int(wait) if wait else ""
            answer = self._upload("/api/deployments" + query, archive, filename)
        finally:
            if temporary:
                os.unlink(temporary)
        if wait and answer.get("state") == "FAILED":
            raise DeployerError("%s v%s FAILED: %s" % (answer.get("model"), answer.get("version"),
                                                       answer.get("error")), deployment=answer)
        return answer

    def _upload(self, path, archive, filename):
        boundary = "deployer-" + secrets.token_hex(12)
        head = ("--%s\r\nContent-Disposition: form-data; name=\"package\"; filename=\"%s\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n" % (boundary, filename.replace('"', ""))
                ).encode("utf-8")
        tail = ("\r\n--%s--\r\n" % boundary).encode("utf-8")
        length = len(head) + os.path.getsize(archive) + len(tail)

        def body():
            yield head
            with open(archive, "rb") as f:
                while True:
                    chunk = f.read(CHUNK)
                    if not chunk:
                        break
                    yield chunk
            yield tail

        headers = {"Content-Type": "multipart/form-data; boundary=" + boundary, "Content-Length": str(length)}
        return self._call("POST", path, body(), headers, timeout=None)

    # -- scoring ------------------------------------------------------------------------------------------

    def predict(self, name, data, version=None):
        """Scores `data` (anything JSON can carry; numpy arrays become lists) with the model's /predict through
        the main port; answers the model's JSON reply (bytes when it is not JSON)."""
        body = json.dumps(_plain(data)).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if version is not None:
            headers["X-Deployer-Version"] = str(int(version))
        return self._call("POST", "/models/%s/predict" % _name(name), body, headers, auth=False)

    def infer(self, name, inputs, outputs=None, version=None, as_numpy=None, binary=None):
        """An Open Inference Protocol (KServe V2) request. `inputs` is {name: array} (numpy arrays, or nested
        lists), or a list of tensor dicts {"name", "shape", "datatype", "data"}. Answers {output name: array}:
        numpy arrays of the tensor's shape and datatype when numpy is installed (or as_numpy=True), else
        {"shape", "datatype", "data"} dicts. With binary=True (the default when every input is a numpy array) the
        tensors travel as raw bytes after the JSON, both ways (the protocol's binary tensor data extension, as
        tritonclient sends them): no decimal text, floats exact, FP16 included."""
        numpy = (_np is not None) if as_numpy is None else as_numpy
        if binary is None:
            binary = numpy and _np is not None and isinstance(inputs, dict) and bool(inputs) and all(
                isinstance(v, _np.ndarray) for v in inputs.values())
        if binary and (_np is None or not numpy or not isinstance(inputs, dict)):
            raise ValueError("binary tensors need numpy, as_numpy, and inputs given as {name: array}")
        raw = []
        if binary:
            tensors = []
            for k, v in inputs.items():
                tensor, data = _binary_tensor(k, v)
                tensors.append(tensor)
                raw.append(data)
        elif isinstance(inputs, dict):
            tensors = [_tensor(k, v) for k, v in inputs.items()]
        else:
            tensors = list(inputs)
        request = {"inputs": tensors}
        if outputs:
            request["outputs"] = [{"name": o, "parameters": {"binary_data": True}} if binary else {"name": o}
                                  for o in outputs]
        elif binary:
            request["parameters"] = {"binary_data_output": True}
        head = json.dumps(request).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if binary:
            headers = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(head))}
        path = "/v2/models/%s%s/infer" % (_name(name), "" if version is None else "/versions/%d" % int(version))
        body, answer_headers = self._call("POST", path, head + b"".join(raw), headers, auth=False, raw=True)
        json_length = answer_headers.get("Inference-Header-Content-Length")
        json_length = len(body) if json_length is None else int(json_length)
        answer = json.loads(body[:json_length].decode("utf-8"))
        result = {}
        at = json_length
        for out in answer.get("outputs", []):
            size = (out.get("parameters") or {}).get("binary_data_size")
            if size is not None:
                result[out["name"]] = _from_bytes(out, body[at:at + size])
                at += size
            else:
                result[out["name"]] = _array(out) if numpy else {k: out[k] for k in ("shape", "datatype", "data")}
        return result

    # -- HTTP ---------------------------------------------------------------------------------------------

    def _call(self, method, path, body=None, headers=None, auth=True, timeout=-1, raw=False):
        """The server's answer decoded by its content type; with raw=True, its bytes and headers."""
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=dict(headers or {}))
        if auth and self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout if timeout == -1 else timeout) as response:
                if raw:
                    return response.read(), response.headers
                return _decode(response.read(), response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as e:
            raw = e.read()
            raise DeployerError(self._error(e.code, raw, e.headers.get("Content-Type", "")), e.code,
                                raw.decode("utf-8", "replace")) from None
        except urllib.error.URLError as e:
            raise DeployerError("cannot connect to %s: %s; is the server running?" % (self.url, e.reason)) from None
        except OSError as e:
            raise DeployerError("lost the connection to %s: %s" % (self.url, e)) from None

    def _error(self, status, raw, content_type):
        if content_type.startswith("application/json"):
            try:
                parsed = json.loads(raw.decode("utf-8"))
                if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
                    message = parsed["error"]
                    if status == 401:
                        return ("the server at %s refused the token: %s" % (self.url, message) if self.token else
                                "the server at %s wants an admin token, and there is none: %s" % (self.url, message))
                    return message
            except ValueError:
                pass
        first = raw.decode("utf-8", "replace").strip().splitlines()[:1]
        return "%s answered %d, not deployer's JSON (is it a deployer server?): %s" % (
            self.url, status, first[0][:200] if first else "(no body)")


def _decode(raw, content_type):
    if not raw:
        return None
    if content_type.startswith("application/json") or content_type.endswith("+json"):
        return json.loads(raw.decode("utf-8"))
    return raw


def _name(name):
    if not isinstance(name, str) or not _pack.NAME.fullmatch(name):
        raise ValueError("model name %r must match %s" % (name, _pack.NAME.pattern))
    return name


def _plain(value):
    """JSON-ready: numpy arrays and scalars become lists and numbers, inside dicts and lists too."""
    if _np is not None:
        if isinstance(value, _np.ndarray):
            return value.tolist()
        if isinstance(value, _np.generic):
            return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_NUMPY_TO_OIP = {v: k for k, v in _DTYPES.items() if k != "BYTES"}


def _tensor(name, value):
    """One OIP input tensor from an array (numpy, or nested lists)."""
    if _np is not None and isinstance(value, (_np.ndarray, _np.generic)):
        array = _np.asarray(value)
        if array.dtype.kind in "OUS":
            datatype = "BYTES"
            data = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in array.ravel().tolist()]
        else:
            if array.dtype.name not in _NUMPY_TO_OIP:
                raise ValueError("input %r: numpy dtype %s has no OIP datatype" % (name, array.dtype))
            datatype = _NUMPY_TO_OIP[array.dtype.name]
            data = array.ravel().tolist()
        return {"name": name, "shape": list(array.shape), "datatype": datatype, "data": data}
    shape, flat = _shape(value)
    if all(isinstance(v, bool) for v in flat):
        datatype = "BOOL"
    elif all(isinstance(v, int) and not isinstance(v, bool) for v in flat):
        datatype = "INT64"
    elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat):
        datatype = "FP64"
    else:
        datatype = "BYTES"
    return {"name": name, "shape": shape, "datatype": datatype, "data": flat}


def _shape(value):
    shape = []
    level = value
    while isinstance(level, (list, tuple)):
        shape.append(len(level))
        level = level[0] if level else None
    flat = []

    def walk(v):
        if isinstance(v, (list, tuple)):
            for item in v:
                walk(item)
        else:
            flat.append(v)

    walk(value)
    total = 1
    for d in shape:
        total *= d
    if not shape:
        shape = [1]
    elif total != len(flat):
        raise ValueError("input is not a regular array: shape %s does not hold %d values" % (shape, len(flat)))
    return shape, flat


def _array(out):
    datatype = out["datatype"]
    if datatype == "BYTES":
        return _np.array(out["data"], dtype=object).reshape(out["shape"])
    return _np.array(out["data"], dtype=_DTYPES[datatype]).reshape(out["shape"])


def _binary_tensor(name, value):
    """One OIP input as the binary extension sends it: its JSON (with binary_data_size) and its bytes."""
    array = _np.asarray(value)
    if array.dtype.kind in "OUS":
        parts = []
        for v in array.ravel().tolist():
            b = v if isinstance(v, bytes) else str(v).encode("utf-8")
            parts.append(struct.pack("<I", len(b)) + b)
        datatype, data = "BYTES", b"".join(parts)
    else:
        if array.dtype.name not in _NUMPY_TO_OIP:
            raise ValueError("input %r: numpy dtype %s has no OIP datatype" % (name, array.dtype))
        datatype = _NUMPY_TO_OIP[array.dtype.name]
        data = _np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    tensor = {"name": name, "shape": list(array.shape), "datatype": datatype,
              "parameters": {"binary_data_size": len(data)}}
    return tensor, data


def _from_bytes(out, data):
    """A binary output as a numpy array of its shape; BYTES elements as str (bytes when not UTF-8)."""
    datatype = out["datatype"]
    if datatype == "BYTES":
        items = []
        at = 0
        while at < len(data):
            (n,) = struct.unpack_from("<I", data, at)
            b = data[at + 4:at + 4 + n]
            try:
                items.append(b.decode("utf-8"))
            except UnicodeDecodeError:
                items.append(b)
            at += 4 + n
        return _np.array(items, dtype=object).reshape(out["shape"])
    dtype = _np.dtype(_DTYPES[datatype]).newbyteorder("<")
    return _np.frombuffer(data, dtype=dtype).astype(_DTYPES[datatype]).reshape(out["shape"])
