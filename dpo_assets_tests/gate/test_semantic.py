"""Layer 5 (semantic): corpus acceptance and one snippet test per rule."""

from __future__ import annotations

import textwrap

import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate.layers.semantic import check, check_source
from dpo_assets.tasks import load_catalog
from dpo_assets.tasks.base import SemanticRules, Signature

_CATALOG = load_catalog()
_TASKS = list(_CATALOG.values()) if isinstance(_CATALOG, dict) else list(_CATALOG)


def _corpus(pred):
    out = []
    for task in _TASKS:
        samples = load_samples(task.task_id)
        for sid, label in load_labels(task.task_id).items():
            if pred(label):
                out.append(pytest.param(task, samples[sid]["code"], id=sid))
    return out


@pytest.mark.parametrize("task", _TASKS, ids=lambda t: t.task_id)
def test_reference_is_clean(task):
    assert check(task, task.reference_source) == []


@pytest.mark.parametrize(("task", "code"), _corpus(lambda lab: lab["label"] == "correct"))
def test_correct_samples_are_clean(task, code):
    assert [v.line() for v in check(task, code)] == []


@pytest.mark.parametrize(("task", "code"), _corpus(lambda lab: 5 in lab["caught_by"]))
def test_layer5_samples_are_caught(task, code):
    assert check(task, code)


NONE = SemanticRules(functions=())


def _reasons(source: str, rules: SemanticRules = NONE) -> list[str]:
    return [v.reason for v in check_source(rules, textwrap.dedent(source))]


def _has(source: str, rule: str, rules: SemanticRules = NONE) -> bool:
    return any(r.startswith(rule) for r in _reasons(source, rules))


# -- syntax and signatures -----------------------------------------------------------------
def test_syntax_error():
    assert _reasons("def f(:\n    pass\n") == ["syntax error"]


SIG = SemanticRules(functions=(Signature("f", ("a", "b")), Signature("g", ("x",), is_async=True)))


@pytest.mark.parametrize(
    ("source", "ok"),
    [
        ("def f(a, b): pass\nasync def g(x): pass\n", True),
        ("def f(a, b, c=1, *, d=2): pass\nasync def g(x, *args, **kw): pass\n", True),
        ("def f(a, c): pass\nasync def g(x): pass\n", False),  # renamed parameter
        ("def f(b, a): pass\nasync def g(x): pass\n", False),  # order
        ("def f(a, b, c): pass\nasync def g(x): pass\n", False),  # extra required
        ("def f(a, b, *, c): pass\nasync def g(x): pass\n", False),  # extra required kw-only
        ("def f(a, b): pass\ndef g(x): pass\n", False),  # not async
        ("async def f(a, b): pass\nasync def g(x): pass\n", False),  # wrongly async
        ("def f(a, b): pass\n", False),  # missing
        ("def f(a, b): pass\nclass C:\n    async def g(self, x): pass\n", False),  # not module level
        ("def f(a, b): pass\ng = lambda x: x\n", False),  # not a def
    ],
)
def test_signatures(source, ok):
    assert (not _has(source, "signature", SIG)) == ok


# -- undefined names and imports -----------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "undefined"),
    [
        ("def f(x):\n    return math.exp(x)\n", True),
        ("import math\ndef f(x):\n    return math.exp(x)\n", False),
        ("def f(x):\n    import math\n    return math.exp(x)\n", False),
        ("def f(x):\n    return helper(x)\n", True),
        ("def f(x):\n    return helper(x)\ndef helper(x):\n    return x\n", False),
        # nested functions see enclosing locals (closure) ...
        ("def f(x):\n    y = 1\n    def g():\n        return x + y\n    return g()\n", False),
        # ... but not the locals of a sibling
        ("def f():\n    y = 1\ndef g():\n    return y\n", True),
        # class scope is not visible from methods
        ("class C:\n    k = 1\n    def m(self):\n        return k\n", True),
        ("class C:\n    k = 1\n    j = k + 1\n", False),
        # comprehension variables do not leak
        ("xs = [i for i in range(3)]\ny = i\n", True),
        ("xs = [i * j for i in range(3) for j in range(i)]\n", False),
        ("def f(xs):\n    return [z for x in xs]\n", True),
        # walrus in a comprehension binds in the enclosing scope
        ("def f(xs):\n    ys = [(t := x) for x in xs]\n    return t, ys\n", False),
        # global / nonlocal
        ("def f():\n    global G\n    G = 1\ndef g():\n    return G\n", False),
        (
            "def f():\n    n = 0\n    def g():\n        nonlocal n\n        n += 1\n    g()\n    return n\n",
            False,
        ),
        ("def f():\n    return __name__, len, ValueError\n", False),
        ("try:\n    import numpy as np\nexcept ImportError:\n    np = None\nx = np\n", False),
        ("from math import *\nx = exp(1)\n", False),
        ("def f(x):\n    try:\n        pass\n    except Exception as e:\n        return e\n", False),
    ],
)
def test_undefined_names(source, undefined):
    assert _has(source, "undefined", NONE) == undefined


def test_missing_import_names_the_module():
    assert any("module 'math'" in r for r in _reasons("def f(x):\n    return math.exp(x)\n"))


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import numpy as np\nimport math, random, asyncio\nfrom collections import deque\n", False),
        ("import numpy.linalg\nfrom numpy.fft import fft\n", False),
        ("import scipy\n", True),
        ("from scipy import linalg\n", True),
        ("from . import sibling\n", True),
        # an optional accelerator behind an ImportError guard is fine
        ("try:\n    import numba\nexcept ImportError:\n    numba = None\n", False),
        ("try:\n    import numba\nexcept ModuleNotFoundError:\n    pass\n", False),
    ],
)
def test_import_whitelist(source, bad):
    assert _has(source, "import", NONE) == bad


# -- forbidden ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source",
    [
        "import sys\ndef f():\n    sys.exit(0)\n",
        "import sys as s\ndef f():\n    s.exit(0)\n",
        "from sys import exit as bye\ndef f():\n    bye(0)\n",
        "import os\nos._exit(0)\n",
        "exit()\n",
        "quit()\n",
        "import os\nos.kill(1, 9)\n",
        "import signal\n",
        "import ctypes\n",
        "import gc\n",
        "import inspect\nx = inspect.currentframe()\n",
        "from inspect import stack\n",
        "import sys\nf = sys._getframe()\n",
        "import sys\nsys.settrace(None)\n",
        "import sys\nsys.setprofile(None)\n",
        "m = __import__('os')\n",
        "import importlib\n",
        "eval('1')\n",
        "exec('1')\n",
        "c = compile('1', 'x', 'eval')\n",
        "open('/etc/passwd')\n",
        "import subprocess\n",
        "import socket\n",
        "import threading\n",
        "from multiprocessing import Pool\n",
        "def f(g):\n    return g.__code__\n",
        "def f(g):\n    return g.__closure__\n",
        "def f(g):\n    return g.__globals__\n",
        "def f(fr):\n    return fr.f_locals\n",
        "x = __builtins__\n",
        "x = object.__subclasses__()\n",
        "import pytest\n",
        "try:\n    import pytest\nexcept ImportError:\n    pytest = None\n",
        "import hypothesis\n",
        "import unittest.mock\n",
        "import coverage\n",
        "import sys\nunder_test = 'pytest' in sys.modules\n",
        "import os\nx = os.environ.get('PYTEST_CURRENT_TEST')\n",
        "import os\nx = os.getenv('CI')\n",
        "import builtins\nbuiltins.exit()\n",
    ],
)
def test_forbidden(source):
    assert _reasons(source), source


@pytest.mark.parametrize(
    "source",
    [
        "import inspect\ndef f(fn):\n    return inspect.iscoroutinefunction(fn), inspect.signature(fn)\n",
        "import os.path\nx = os.path.join('a', 'b')\n",
        "import sys\nx = sys.float_info.max\n",
        "def f(exec, compile):\n    return exec(compile)\n",  # shadowed builtins are parameters
        "class C:\n    def open(self):\n        return self\n",
        "import asyncio\nasync def f():\n    await asyncio.sleep(0)\n",
    ],
)
def test_not_forbidden(source):
    assert _reasons(source) == []


def test_task_forbidden_calls():
    rules = SemanticRules(functions=(), forbidden_calls=frozenset({"time.sleep"}))
    assert _has("import time\ntime.sleep(1)\n", "forbidden", rules)
    assert _has("from time import sleep\nsleep(1)\n", "forbidden", rules)
    assert _has("import time as t\nt.sleep(1)\n", "forbidden", rules)
    assert not _has("import time\nx = time.perf_counter()\n", "forbidden", rules)
    assert not _has("import time\ntime.sleep(1)\n", "forbidden", NONE)


# -- monkeypatching -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import random\nrandom.gauss = lambda m, s: m\n", True),
        ("import random as r\ndef f():\n    r.gauss = lambda m, s: m\n", True),
        ("import numpy as np\nnp.allclose = lambda *a: True\n", True),
        ("import numpy.testing\nnumpy.testing.assert_allclose = print\n", True),
        ("import numpy as np\nnp.linalg.solve = print\n", True),
        ("import builtins\nbuiltins.type = object\n", True),
        ("import builtins\nbuiltins.ValueError = Exception\n", True),
        ("import asyncio\nasyncio.sleep = print\n", True),
        ("import math\nmath.exp, math.log = abs, abs\n", True),
        ("import math\nsetattr(math, 'exp', abs)\n", True),
        ("import math\ndelattr(math, 'exp')\n", True),
        ("import math\nmath.__dict__['exp'] = abs\n", True),
        ("from numpy import linalg\nlinalg.solve = print\n", True),
        ("import time\ntime.perf_counter = lambda: 0.0\n", True),
        # ordinary objects may be mutated
        ("class C:\n    pass\nc = C()\nc.x = 1\nsetattr(c, 'y', 2)\n", False),
        ("import numpy as np\na = np.zeros(3)\na[0] = 1.0\nrng = np.random.default_rng()\n", False),
        ("def f(obj):\n    obj.value = 1\n", False),
    ],
)
def test_monkeypatch(source, bad):
    assert _has(source, "monkeypatch", NONE) == bad


# -- weakened checks ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("def f(x):\n    try:\n        return g(x)\n    except:\n        pass\ndef g(x): return x\n", True),
        ("def f(x):\n    try:\n        return int(x)\n    except Exception:\n        return 0\n", True),
        (
            "def f(xs):\n    for x in xs:\n        try:\n            int(x)\n        except BaseException:\n"
            "            continue\n",
            True,
        ),
        (
            "def f(x):\n    try:\n        return int(x)\n    except (ValueError, TypeError):\n"
            "        return 0\n",
            True,
        ),
        ("def f(x):\n    try:\n        return int(x)\n    except Exception:\n        return []\n", True),
        # narrow handlers that convert, re-raise, or compute are fine
        (
            "import math\ndef f(x):\n    try:\n        return math.exp(x)\n    except OverflowError:\n"
            "        return 1.0\n",
            False,
        ),
        (
            "def f(x):\n    try:\n        return int(x)\n    except (ValueError, TypeError) as e:\n"
            "        raise ValueError('bad') from e\n",
            False,
        ),
        ("def f(x):\n    try:\n        return int(x)\n    except Exception:\n        raise\n", False),
        (
            "def f(x, log):\n    try:\n        return int(x)\n    except Exception as e:\n"
            "        log.append(e)\n"
            "        raise\n",
            False,
        ),
        (
            "def f(x):\n    try:\n        return int(x)\n    except ValueError:\n"
            "        pass\n    return None\n",
            False,
        ),
        (
            "async def f(tg, errs):\n    try:\n        pass\n    except* Exception:\n        pass\n"
            "    if errs:\n        raise errs[0]\n",
            False,
        ),
    ],
)
def test_exception_swallowed(source, bad):
    assert _has(source, "weakened check", NONE) == bad


def test_if_branch_replaced_by_pass():
    assert _has("def f(w):\n    if w < 1:\n        pass  # fine\n    return w\n", "weakened check")
    assert not _has("def f(w):\n    if w < 1:\n        raise ValueError(w)\n    return w\n", "weakened check")
    assert not _has(
        "def f(w):\n    if w < 1:\n        pass\n    else:\n        w = 2\n    return w\n", "weakened"
    )


def test_mutable_default():
    assert _has("def f(a, messages=[]):\n    return messages\n", "mutable default")
    assert _has("def f(a, *, seen=dict()):\n    return seen\n", "mutable default")
    assert not _has("def f(a, messages=None, t=()):\n    return messages\n", "mutable default")


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("class A(float):\n    def __eq__(self, other):\n        return True\n", True),
        ("class A:\n    __eq__ = lambda self, other: True\n", True),
        (
            "class A:\n    def __eq__(self, other):\n        if other is None:\n            return True\n"
            "        return True\n",
            True,
        ),
        ("class A:\n    def __eq__(self, other):\n        return self.v == other.v\n", False),
        (
            "class A:\n    def __eq__(self, other):\n        if self is other:\n            return True\n"
            "        return self.v == other.v\n",
            False,
        ),
    ],
)
def test_always_equal(source, bad):
    assert _has(source, "always equal", NONE) == bad


# -- task rules ------------------------------------------------------------------------------
FLAG = SemanticRules(functions=(), computed_flags={"step": 1}, carried_results=frozenset({"step"}))


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("def step(x):\n    return x + 1, True\n", True),
        ("def step(x):\n    if x:\n        return x, True\n    return x + 1, True\n", True),
        ("def step(x):\n    if x:\n        return x + 1, True\n    return x, False\n", False),
        ("def step(x):\n    ok = x > 0\n    return x, ok\n", False),
        # a nested helper's returns belong to the helper
        ("def step(x):\n    def h():\n        return 0, True\n    return x, x > h()[0]\n", False),
    ],
)
def test_computed_flags(source, bad):
    assert _has(source, "hard-coded flag", FLAG) == bad


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("def run(x):\n    for _ in range(3):\n        step(x)\n    return x\n", True),
        ("def run(x):\n    for _ in range(3):\n        _ = step(x)\n    return x\n", True),
        ("def run(x):\n    _, _ = step(x)\n    return x\n", True),
        ("def run(x):\n    y = step(x)\n    return x\n", True),
        ("def run(x):\n    for _ in range(3):\n        x, _ = step(x)\n    return x\n", False),
        ("def run(x):\n    x = step(x)[0]\n    return x\n", False),
        ("def run(x):\n    y, _acc = step(x)\n    return y\n", False),
        ("def run(x):\n    chain = [step(x)]\n    return chain\n", False),
    ],
)
def test_carried_results(source, bad):
    assert _has(source, "discarded result", FLAG) == bad


def test_must_await():
    rules = SemanticRules(functions=(), must_await=frozenset({"asyncio.sleep"}))
    assert _has("import asyncio\nasync def f():\n    asyncio.sleep(1)\n", "not awaited", rules)
    assert _has("import asyncio as aio\nasync def f():\n    t = aio.sleep(1)\n", "not awaited", rules)
    assert _has("from asyncio import sleep\nasync def f():\n    sleep(1)\n", "not awaited", rules)
    assert not _has("import asyncio\nasync def f():\n    await asyncio.sleep(1)\n", "not awaited", rules)
