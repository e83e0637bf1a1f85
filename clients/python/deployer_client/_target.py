"""Where the client's calls go, found the way the Java client finds it (DESIGN 1.13): arguments, then
DEPLOYER_SERVER / DEPLOYER_TOKEN, then a data folder named by DEPLOYER_DATA, then the file `deployer login`
wrote (DEPLOYER_CONFIG, else $XDG_CONFIG_HOME/deployer/client.json, else ~/.config/deployer/client.json), then
./deployer-data. A token read from a place is only sent to that place's server. With nothing naming a server,
an error says how to name one: never a silent default address."""

import json
import os
from urllib.parse import urlsplit

NO_SERVER = ("no server named: run `deployer login URL --token T` once, or pass the URL, or set DEPLOYER_SERVER "
             "(or run in the folder that holds the server's ./deployer-data)")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def config_file(env=None):
    """The path of client.json as the environment places it, or None."""
    env = os.environ if env is None else env
    if env.get("DEPLOYER_CONFIG", "").strip():
        return os.path.normpath(os.path.abspath(env["DEPLOYER_CONFIG"]))
    if env.get("XDG_CONFIG_HOME", "").strip():
        return os.path.normpath(os.path.join(env["XDG_CONFIG_HOME"], "deployer", "client.json"))
    if env.get("HOME", "").strip():
        return os.path.normpath(os.path.join(env["HOME"], ".config", "deployer", "client.json"))
    return None


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
            return text or None
    except OSError:
        return None


def _data_folder(folder, bound):
    port = _read(os.path.join(folder, "server.port"))
    token = _read(os.path.join(folder, "admin.token"))
    return ("http://127.0.0.1:%s" % port if port else None, token, bound)


def _same(a, b):
    a, b = urlsplit(a.rstrip("/")), urlsplit(b.rstrip("/"))
    if (a.scheme, a.hostname, a.port, a.path) == (b.scheme, b.hostname, b.port, b.path):
        return True
    return (a.scheme == b.scheme and a.port == b.port and a.path == b.path
            and a.hostname in LOOPBACK and b.hostname in LOOPBACK)


def resolve(url=None, token=None, env=None):
    """(url, token) for a client; raises ValueError with NO_SERVER when nothing names a server."""
    env = os.environ if env is None else env
    places = [(url or None, token or None, False),
              (env.get("DEPLOYER_SERVER") or None, env.get("DEPLOYER_TOKEN") or None, False)]
    if env.get("DEPLOYER_DATA"):
        places.append(_data_folder(env["DEPLOYER_DATA"], False))
    path = config_file(env)
    if path and os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as f:
                login = json.load(f)
        except ValueError as e:
            raise ValueError("%s is not readable JSON (%s); `deployer login URL` writes it again" % (path, e))
        if isinstance(login, dict) and login.get("server"):
            places.append((login["server"], login.get("token") or None, True))
    if not env.get("DEPLOYER_DATA"):
        places.append(_data_folder("deployer-data", True))
    named = next((p for p in places if p[0]), None)
    if named is None:
        raise ValueError(NO_SERVER)
    server = named[0].strip().rstrip("/")
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("server %r is not a URL like http://127.0.0.1:8080" % named[0])
    for place_url, place_token, bound in places:
        if place_token and (not bound or place_url and _same(server, place_url)):
            return server, place_token.strip()
    return server, None
