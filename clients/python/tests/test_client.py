"""The Python client against a real deployer server: DEPLOYER_TEST_URL and DEPLOYER_TEST_TOKEN name it (the JUnit
test PythonClientTest starts one on a free port and runs these). Without them the server tests are skipped, unless
DEPLOYER_TEST_REQUIRE_SERVER is set, when they fail."""

import io
import json
import os
import shutil
import tempfile
import unittest

from deployer_client import Client, DeployerError, PackError, _target

try:
    import numpy as np
except ImportError:
    np = None

URL = os.environ.get("DEPLOYER_TEST_URL")
TOKEN = os.environ.get("DEPLOYER_TEST_TOKEN")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

TENSOR_ECHO = """
package example;

public class TensorEcho implements deployer.spi.Model {
    private String hello = "";

    @Override
    public void load(deployer.spi.ModelContext context) {
        hello = context.properties().getOrDefault("hello", "");
        context.logger().log(System.Logger.Level.INFO, "tensor echo loaded, hello=" + hello);
    }

    // OIP inputs reach the model as {name: {"shape", "datatype", "data"}}; answering them as they are sends every
    // tensor back with its shape and datatype. Plain JSON is answered as {"echo": ..., "hello": ...}.
    @Override
    public Object score(Object input) {
        if (input instanceof java.util.Map<?, ?> map && !map.isEmpty()
                && map.values().stream().allMatch(v -> v instanceof java.util.Map<?, ?> t && t.containsKey("data"))) {
            return input;
        }
        java.util.Map<String, Object> answer = new java.util.LinkedHashMap<>();
        answer.put("echo", input);
        answer.put("hello", hello);
        return answer;
    }
}
"""


def model_folder(root, name, hello="world", extra_files=None, source=TENSOR_ECHO):
    folder = os.path.join(root, name)
    os.makedirs(os.path.join(folder, "serving"))
    with open(os.path.join(folder, "deploy.json"), "w") as f:
        json.dump({"name": name, "entry": "example.TensorEcho", "files": ["serving/*.java"],
                   "properties": {"hello": hello}}, f)
    with open(os.path.join(folder, "serving", "TensorEcho.java"), "w") as f:
        f.write(source)
    for path, text in (extra_files or {}).items():
        full = os.path.join(folder, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    return folder


def need_server(test):
    if not URL:
        if os.environ.get("DEPLOYER_TEST_REQUIRE_SERVER"):
            raise AssertionError("DEPLOYER_TEST_URL is not set")
        raise unittest.SkipTest("no server: set DEPLOYER_TEST_URL and DEPLOYER_TEST_TOKEN")


class ServerTest(unittest.TestCase):

    def setUp(self):
        need_server(self)
        self.client = Client(URL, TOKEN)
        self.work = tempfile.mkdtemp(prefix="deployer-py-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def deploy(self, name, **kw):
        report = io.StringIO()
        d = self.client.deploy(model_folder(self.work, name, **kw), wait=120, report=report)
        return d, report.getvalue()


class DeployAndScore(ServerTest):

    def test_deploy_packs_like_the_java_client_and_reports_what_it_left_out(self):
        d, report = self.deploy("py-packed", extra_files={"secrets.env": "PASSWORD=x", "notes/a.txt": "a"})

        self.assertEqual(d["state"], "READY", d)
        self.assertEqual(d["model"], "py-packed")
        self.assertIn("packed 2 files (", report)
        self.assertIn("deploy.json, serving/TensorEcho.java", report)
        self.assertIn('left out 2 files not marked deployable by "files": notes/a.txt, secrets.env', report)

    def test_predict_answers_the_models_json(self):
        self.deploy("py-predict")

        self.assertEqual(self.client.predict("py-predict", {"x": [1, 2]}), {"echo": {"x": [1, 2]}, "hello": "world"})

    def test_models_model_and_status(self):
        d, _ = self.deploy("py-listed")

        listed = {m["name"]: m for m in self.client.models()}
        self.assertEqual(listed["py-listed"]["state"], "READY")
        self.assertEqual(self.client.model("py-listed")["active"]["deploy_id"], d["deploy_id"])
        self.assertEqual(self.client.status(d["deploy_id"])["state"], "READY")

    def test_deploy_without_waiting_answers_the_deploy_id(self):
        accepted = self.client.deploy(model_folder(self.work, "py-nowait"), wait=0, report=None)

        self.assertEqual(accepted["state"], "STARTING")
        self.assertIn("deploy_id", accepted)

    def test_an_archive_is_sent_as_it_is(self):
        folder = model_folder(self.work, "py-archive")
        archive = shutil.make_archive(os.path.join(self.work, "py-archive"), "zip", folder)

        self.assertEqual(self.client.deploy(archive, report=None)["state"], "READY")


class Lifecycle(ServerTest):

    def test_activate_rolls_back_to_an_earlier_version(self):
        self.deploy("py-versions", hello="one")
        shutil.rmtree(os.path.join(self.work, "py-versions"))
        self.deploy("py-versions", hello="two")
        self.assertEqual(self.client.predict("py-versions", {})["hello"], "two")

        back = self.client.activate("py-versions", 1)

        self.assertEqual((back["version"], back["state"]), (1, "READY"))
        self.assertEqual(self.client.predict("py-versions", {})["hello"], "one")

    def test_delete_version_removes_a_retired_version_and_refuses_the_active_one(self):
        self.deploy("py-prune")
        shutil.rmtree(os.path.join(self.work, "py-prune"))
        self.deploy("py-prune", hello="two")

        with self.assertRaises(DeployerError) as active:
            self.client.delete_version("py-prune", 2)
        self.client.delete_version("py-prune", 1)

        self.assertEqual(active.exception.status, 409)
        self.assertEqual([v["version"] for v in self.client.model("py-prune")["versions"]], [2])

    def test_stop_start_restart_and_delete(self):
        self.deploy("py-life")

        self.assertEqual(self.client.stop("py-life")["state"], "STOPPED")
        with self.assertRaises(DeployerError) as stopped:
            self.client.predict("py-life", {})
        self.assertEqual(stopped.exception.status, 503)
        self.assertEqual(self.client.start("py-life")["state"], "READY")
        self.assertEqual(self.client.restart("py-life")["state"], "READY")
        self.client.delete("py-life", purge=True)
        self.assertNotIn("py-life", [m["name"] for m in self.client.models()])

    def test_events_of_one_model_newest_first(self):
        self.deploy("py-events")

        events = self.client.events("py-events", limit=50)

        self.assertTrue(events)
        self.assertTrue(all(e["model"] == "py-events" for e in events))
        self.assertIn("ready", [e["kind"] for e in events])


    def test_logs_are_the_models_own_lines_only(self):
        self.deploy("py-logs-a", hello="from-a")
        self.deploy("py-logs-b", hello="from-b")

        lines = self.client.logs("py-logs-a")
        newer = self.client.logs("py-logs-a", since=lines[-1]["seq"])

        self.assertEqual([l["message"] for l in lines], ["tensor echo loaded, hello=from-a"])
        self.assertEqual((lines[0]["model"], lines[0]["version"], lines[0]["level"]), ("py-logs-a", 1, "INFO"))
        self.assertEqual(newer, [])


class Errors(ServerTest):

    def test_an_unknown_model_is_a_deployer_error_with_the_servers_message(self):
        with self.assertRaises(DeployerError) as caught:
            self.client.model("py-nobody")

        self.assertEqual(caught.exception.status, 404)
        self.assertIn("py-nobody", caught.exception.message)

    def test_a_wrong_token_is_refused_before_anything_is_packed(self):
        client = Client(URL, "not-the-token-at-all")
        report = io.StringIO()

        with self.assertRaises(DeployerError) as caught:
            client.deploy(model_folder(self.work, "py-refused"), report=report)

        self.assertEqual(caught.exception.status, 401)
        self.assertIn("refused the token", str(caught.exception))
        self.assertEqual(report.getvalue(), "")

    def test_a_compile_error_fails_the_deploy_with_the_deployment(self):
        with self.assertRaises(DeployerError) as caught:
            self.deploy("py-broken", source="package example;\npublic class TensorEcho { int x = ; }\n")

        self.assertEqual(caught.exception.deployment["state"], "FAILED")
        self.assertIn("TensorEcho.java:2", caught.exception.message)

    def test_no_server_listening_is_a_deployer_error(self):
        with self.assertRaises(DeployerError) as caught:
            Client("http://127.0.0.1:9", TOKEN).models()

        self.assertIsNone(caught.exception.status)
        self.assertIn("cannot connect to http://127.0.0.1:9", caught.exception.message)


class Tensors(ServerTest):

    def test_plain_lists_go_in_and_tensor_dicts_come_out_without_numpy(self):
        self.deploy("py-lists")

        out = self.client.infer("py-lists", {"x": [[1, 2, 3], [4, 5, 6]]}, as_numpy=False)

        self.assertEqual(out["x"], {"shape": [2, 3], "datatype": "INT64", "data": [1, 2, 3, 4, 5, 6]})

    @unittest.skipIf(np is None, "numpy is not installed")
    def test_numpy_arrays_round_trip_through_the_open_inference_protocol(self):
        self.deploy("py-numpy")
        inputs = {"f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
                  "i64": np.array([[1, -2], [3, 4]], dtype=np.int64),
                  "flag": np.array([True, False, True])}

        out = self.client.infer("py-numpy", inputs)

        for name, array in inputs.items():
            self.assertEqual(out[name].dtype, array.dtype, name)
            self.assertEqual(out[name].shape, array.shape, name)
            np.testing.assert_array_equal(out[name], array)

    @unittest.skipIf(np is None, "numpy is not installed")
    def test_numpy_arrays_travel_as_binary_tensors_exactly_and_as_json_when_asked(self):
        self.deploy("py-binary")
        inputs = {"half": np.array([[0.1, -2.5], [65504, 1e-7]], dtype=np.float16),
                  "f64": np.array([np.pi, -1e300, 5e-324]),
                  "u8": np.array([0, 7, 255], dtype=np.uint8),
                  "words": np.array([["héllo", ""], ["a", "b c"]], dtype=object)}

        binary = self.client.infer("py-binary", inputs)
        as_json = self.client.infer("py-binary", {k: v for k, v in inputs.items() if k != "half"}, binary=False)
        named = self.client.infer("py-binary", inputs, outputs=["u8"])

        for name, array in inputs.items():
            self.assertEqual(binary[name].shape, array.shape, name)
            self.assertEqual(binary[name].dtype, array.dtype, name)
            np.testing.assert_array_equal(binary[name], array)
        np.testing.assert_array_equal(as_json["f64"], inputs["f64"])
        np.testing.assert_array_equal(as_json["words"], inputs["words"])
        self.assertEqual(list(named), ["u8"])
        np.testing.assert_array_equal(named["u8"], inputs["u8"])

    @unittest.skipIf(np is None, "numpy is not installed")
    def test_predict_takes_numpy_arrays(self):
        self.deploy("py-np-predict")

        answer = self.client.predict("py-np-predict", {"x": np.array([1.5, 2.5])})

        self.assertEqual(answer["echo"], {"x": [1.5, 2.5]})


class Home(unittest.TestCase):
    """Where Client() finds its server: the same order and file as the Java client."""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="deployer-py-home-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.config = os.path.join(self.work, "client.json")
        with open(self.config, "w") as f:
            json.dump({"server": "http://logged-in:3", "token": "login-token"}, f)

    def test_the_login_file_after_the_environment(self):
        env = {"DEPLOYER_CONFIG": self.config}
        self.assertEqual(_target.resolve(env=env), ("http://logged-in:3", "login-token"))
        env.update(DEPLOYER_SERVER="http://env:2", DEPLOYER_TOKEN="env-token")
        self.assertEqual(_target.resolve(env=env), ("http://env:2", "env-token"))

    def test_a_logins_token_is_never_sent_to_another_server(self):
        env = {"DEPLOYER_CONFIG": self.config}
        self.assertEqual(_target.resolve("http://someone-else:4", env=env), ("http://someone-else:4", None))

    def test_nothing_named_is_a_clear_error(self):
        here = os.getcwd()
        os.chdir(self.work)
        try:
            with self.assertRaises(ValueError) as caught:
                _target.resolve(env={})
        finally:
            os.chdir(here)
        self.assertEqual(str(caught.exception), _target.NO_SERVER)

    def test_a_server_that_is_not_a_url_is_a_deployer_error(self):
        with self.assertRaises(DeployerError) as caught:
            Client("localhost:8080", "t")
        self.assertIn("is not a URL like http://127.0.0.1:8080", str(caught.exception))

    def test_the_xdg_folder_and_home(self):
        self.assertEqual(_target.config_file({"HOME": "/h"}), "/h/.config/deployer/client.json")
        self.assertEqual(_target.config_file({"HOME": "/h", "XDG_CONFIG_HOME": "/x"}), "/x/deployer/client.json")
        self.assertIsNone(_target.config_file({}))


class Packing(unittest.TestCase):
    """The globs match as the Java client's PathMatcher globs do."""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="deployer-py-pack-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def test_star_stays_in_its_folder_and_double_star_crosses_folders(self):
        from deployer_client import _pack
        folder = model_folder(self.work, "globs", extra_files={"model/w.bin": "w", "model/deeper/x.bin": "x",
                                                                "lib/a.jar": "j"})
        one = _pack.select(folder, {"files": ["serving/*.java", "model/*", "lib/*.txt"]})
        two = _pack.select(folder, {"files": ["serving/*.java", "model/**", "{lib,other}/*.jar"]})

        self.assertEqual(one, (["deploy.json", "model/w.bin", "serving/TensorEcho.java"],
                               ["lib/a.jar", "model/deeper/x.bin"], ["lib/*.txt"]))
        self.assertEqual(two[0], ["deploy.json", "lib/a.jar", "model/deeper/x.bin", "model/w.bin",
                                  "serving/TensorEcho.java"])

    def test_a_folder_without_deploy_json_is_a_pack_error(self):
        from deployer_client import _pack
        with self.assertRaises(PackError):
            _pack.pack(self.work)


if __name__ == "__main__":
    unittest.main()
