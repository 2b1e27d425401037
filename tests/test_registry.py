"""The name → component registry, its "did you mean" errors, and parameter checking."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import Field

from bgdsim import aggregators, attacks
from bgdsim._params import check_params, param_names
from bgdsim.registry import Registry, UnknownNameError, did_you_mean


@pytest.fixture
def reg() -> Registry[Any]:
    r: Registry[Any] = Registry("widget")

    @r.register("square")
    def square(x: float) -> float:
        return x * x

    @r.register("cube")
    def cube(x: float) -> float:
        return x**3

    return r


# ----------------------------------------------------------------------------- Registry


def test_register_returns_the_object_and_get_finds_it() -> None:
    r: Registry[Any] = Registry("widget")

    def f() -> int:
        return 1

    assert r.register("f")(f) is f
    assert r.get("f") is f


def test_names_are_sorted(reg: Registry[Any]) -> None:
    assert reg.names() == ["cube", "square"]
    assert list(reg) == ["cube", "square"]
    assert len(reg) == 2


def test_contains(reg: Registry[Any]) -> None:
    assert "square" in reg
    assert "cube" in reg
    assert "circle" not in reg
    assert 3 not in reg


def test_get_calls_the_registered_component(reg: Registry[Any]) -> None:
    assert reg.get("square")(3.0) == 9.0
    assert reg.get("cube")(2.0) == 8.0


def test_empty_registry() -> None:
    r: Registry[Any] = Registry("widget")
    assert r.names() == []
    assert len(r) == 0
    with pytest.raises(UnknownNameError, match="unknown widget 'x'"):
        r.get("x")


def test_duplicate_registration_raises(reg: Registry[Any]) -> None:
    with pytest.raises(ValueError, match="widget 'square' is already registered"):
        reg.register("square")(lambda x: x)
    assert reg.get("square")(2.0) == 4.0  # the first registration is kept


def test_unregister_removes_and_returns(reg: Registry[Any]) -> None:
    square = reg.get("square")
    assert reg.unregister("square") is square
    assert "square" not in reg
    assert reg.register("square")(abs) is abs  # the name is free again
    with pytest.raises(UnknownNameError, match="unknown widget 'nope'"):
        reg.unregister("nope")


@pytest.mark.parametrize("exc_type", [UnknownNameError, KeyError, ValueError, LookupError])
def test_unknown_name_error_types(reg: Registry[Any], exc_type: type[Exception]) -> None:
    with pytest.raises(exc_type):
        reg.get("sqare")


def test_unknown_name_close_match_has_hint_and_allowed(reg: Registry[Any]) -> None:
    with pytest.raises(UnknownNameError) as info:
        reg.get("sqare")
    msg = str(info.value)
    assert msg == "unknown widget 'sqare' (did you mean 'square'?); allowed: cube, square"
    assert info.value.kind == "widget"
    assert info.value.name == "sqare"
    assert sorted(info.value.choices) == ["cube", "square"]


def test_unknown_name_nothing_close_lists_allowed_without_hint(reg: Registry[Any]) -> None:
    with pytest.raises(UnknownNameError) as info:
        reg.get("zzzzzz")
    msg = str(info.value)
    assert "did you mean" not in msg
    assert msg == "unknown widget 'zzzzzz'; allowed: cube, square"


def test_unknown_name_str_is_not_quoted_like_key_error(reg: Registry[Any]) -> None:
    with pytest.raises(UnknownNameError) as info:
        reg.get("sqare")
    assert not str(info.value).startswith(("'", '"'))


@pytest.mark.parametrize(
    ("family", "bad", "hint"),
    [
        pytest.param(aggregators, "gmon", "gmom", id="aggregator"),
        pytest.param(attacks, "sign_flap", "sign_flip", id="attack"),
    ],
)
def test_package_registries_hint(family: Any, bad: str, hint: str) -> None:
    with pytest.raises(UnknownNameError, match=f"did you mean '{hint}'"):
        family.get(bad)


# ----------------------------------------------------------------------------- did_you_mean


@pytest.mark.parametrize(
    ("name", "choices", "expected"),
    [
        pytest.param("wokers", ["workers", "byzantine"], " (did you mean 'workers'?)", id="typo"),
        pytest.param("mean", ["mean", "gmom"], " (did you mean 'mean'?)", id="exact"),
        pytest.param("gmon", ("gmom", "geomed", "mean"), " (did you mean 'gmom'?)", id="tuple"),
        pytest.param("xyz", ["workers", "byzantine"], "", id="nothing-close"),
        pytest.param("anything", [], "", id="no-choices"),
    ],
)
def test_did_you_mean(name: str, choices: list[str] | tuple[str, ...], expected: str) -> None:
    assert did_you_mean(name, choices) == expected


# ----------------------------------------------------------------------------- check_params


def _component(
    x: Any,
    *,
    alpha: Annotated[float, Field(gt=0)] = 1.5,
    count: int = 3,
    flag: bool = False,
    supplied_by_caller: int = 0,
) -> None:
    """A component with typed keyword-only parameters."""


def _needs(x: Any, *, level: int) -> None:
    """A component with a required parameter."""


def _bare(x: Any) -> None:
    """A component without parameters."""


def test_check_params_fills_defaults() -> None:
    out = check_params(_component, {}, where="params")
    assert out == {"alpha": 1.5, "count": 3, "flag": False, "supplied_by_caller": 0}


def test_check_params_keeps_given_values() -> None:
    out = check_params(_component, {"alpha": 2.0, "flag": True}, where="params")
    assert out == {"alpha": 2.0, "count": 3, "flag": True, "supplied_by_caller": 0}


def test_check_params_int_for_float_is_accepted() -> None:
    assert check_params(_component, {"alpha": 2}, where="params")["alpha"] == 2


def test_check_params_supplied_are_not_tunable() -> None:
    assert "supplied_by_caller" not in check_params(
        _component, {}, where="params", supplied=("supplied_by_caller",)
    )
    with pytest.raises(ValueError, match=r"params\.supplied_by_caller: unknown parameter"):
        check_params(
            _component, {"supplied_by_caller": 1}, where="params", supplied=("supplied_by_caller",)
        )


def test_param_names() -> None:
    assert param_names(_component) == ["alpha", "count", "flag", "supplied_by_caller"]
    assert param_names(_component, ("supplied_by_caller",)) == ["alpha", "count", "flag"]
    assert param_names(_bare) == []


def test_check_params_unknown_with_hint() -> None:
    with pytest.raises(ValueError, match=r"^server\.params\.alpah: unknown parameter") as info:
        check_params(_component, {"alpah": 2.0}, where="server.params")
    msg = str(info.value)
    assert "(did you mean 'alpha'?)" in msg
    assert "allowed: alpha, count, flag, supplied_by_caller" in msg


def test_check_params_unknown_without_hint() -> None:
    with pytest.raises(ValueError, match=r"^params\.zzz: unknown parameter") as info:
        check_params(_component, {"zzz": 1}, where="params")
    assert "did you mean" not in str(info.value)


def test_check_params_none_allowed() -> None:
    with pytest.raises(ValueError, match=r"^p\.anything: unknown parameter; allowed: none$"):
        check_params(_bare, {"anything": 1}, where="p")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"alpha": "big"}, "alpha", id="string-for-float"),
        pytest.param({"alpha": -1.0}, "alpha", id="out-of-range"),
        pytest.param({"alpha": 0.0}, "alpha", id="boundary"),
        pytest.param({"count": "3"}, "count", id="string-for-int-strict"),
        pytest.param({"count": 3.5}, "count", id="float-for-int"),
        pytest.param({"flag": "yes"}, "flag", id="string-for-bool"),
        pytest.param({"flag": 1}, "flag", id="int-for-bool-strict"),
    ],
)
def test_check_params_ill_typed_names_where_param(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=rf"^adversary\.params\.{field}: ") as info:
        check_params(_component, params, where="adversary.params")
    msg = str(info.value)
    assert f"(got {params[field]!r})" in msg


def test_check_params_missing_required() -> None:
    with pytest.raises(ValueError, match=r"^params\.level: "):
        check_params(_needs, {}, where="params")
    assert check_params(_needs, {"level": 2}, where="params") == {"level": 2}


def test_check_params_real_components() -> None:
    assert check_params(attacks.get("sign_flip"), {}, where="params") == {"scale": 10.0}
    gmom = aggregators.get("gmom")
    supplied = aggregators.SUPPLIED
    assert check_params(gmom, {}, where="params", supplied=supplied) == {
        "batches": 20,
        "tol": 1e-10,
        "rebatch": False,
    }
    assert check_params(aggregators.get("mean"), {}, where="params") == {}
    with pytest.raises(ValueError, match=r"^params\.tol: "):
        check_params(gmom, {"tol": 1.0}, where="params", supplied=supplied)


# ----------------------------------------------------------------------------- plugins


def _plugin_square(x: float) -> float:
    """A component an entry point names."""
    return x * x


_NOT_CALLABLE = 3


def _declare(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    """Declare entry points ``name = value`` in the group ``test.widgets``."""
    from importlib.metadata import EntryPoint

    from bgdsim import registry

    eps = {n: (EntryPoint(n, v, "test.widgets"),) for n, v in values.items()}
    monkeypatch.setattr(registry, "_declared", lambda group: eps if group == "test.widgets" else {})


def test_a_declared_plugin_is_listed_without_loading_and_loaded_on_get(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _declare(monkeypatch, plug="tests.test_registry:_plugin_square", bad="no_such_module_x:f")
    r: Registry[Any] = Registry("widget", "test.widgets")
    r.register("builtin")(abs)
    # listing names does not import anything: the broken one is listed too
    assert r.names() == ["bad", "builtin", "plug"]
    assert "plug" in r and "bad" in r and len(r) == 3
    assert r.get("plug") is _plugin_square
    assert r.get("plug") is _plugin_square  # loaded once, then registered
    with pytest.raises(UnknownNameError, match=r"unknown widget 'plgu' \(did you mean 'plug'\?\)"):
        r.get("plgu")


def test_a_plugin_that_fails_to_load_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from bgdsim.registry import PluginError

    _declare(monkeypatch, bad="no_such_module_x.sub:f", num="tests.test_registry:_NOT_CALLABLE")
    r: Registry[Any] = Registry("widget", "test.widgets")
    with pytest.raises(PluginError) as info:
        r.get("bad")
    assert str(info.value) == (
        "plugin entry point 'bad = no_such_module_x.sub:f' in group test.widgets failed to "
        "load: ModuleNotFoundError: No module named 'no_such_module_x'"
    )
    with pytest.raises(PluginError, match="names a int, not a function or class"):
        r.get("num")


def test_built_ins_take_precedence_and_a_registry_without_group_has_no_plugins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _declare(monkeypatch, abs="no_such_module_x:f")
    r: Registry[Any] = Registry("widget", "test.widgets")
    r.register("abs")(abs)
    assert r.get("abs") is abs  # the broken entry point of that name is never loaded
    plain: Registry[Any] = Registry("widget")
    assert plain.names() == []


def test_an_entry_point_declared_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    from bgdsim import registry
    from bgdsim.registry import PluginError

    twice = (EntryPoint("w", "a:f", "test.widgets"), EntryPoint("w", "b:f", "test.widgets"))
    monkeypatch.setattr(registry, "_declared", lambda group: {"w": twice})
    with pytest.raises(PluginError, match=r"'w' is declared more than once \(a:f, b:f\)"):
        Registry("widget", "test.widgets").get("w")


def test_the_families_have_their_groups() -> None:
    from bgdsim import adversary, problems

    groups = {r.kind: r.group for r in (aggregators.registry, attacks.registry,
              adversary.schedules, problems.registry, aggregators.pre.registry)}  # fmt: skip
    assert groups == {
        "aggregator": "bgdsim.aggregators",
        "attack": "bgdsim.attacks",
        "schedule": "bgdsim.schedules",
        "problem": "bgdsim.problems",
        "pre-aggregator": "bgdsim.pre_aggregators",
    }


# ------------------------------------------------- components shipped to other processes
def _local_rule(vectors: Any) -> Any:
    return vectors[0]


def test_local_components_are_the_ones_registered_from_outside_bgdsim() -> None:
    from bgdsim import registry

    before = registry.local_components()
    assert not [c for c in before if c[3].__module__.startswith("bgdsim")]  # built-ins
    aggregators.register("local_rule")(_local_rule)
    try:
        added = [c for c in registry.local_components() if c not in before]
        assert added == [("bgdsim.aggregators", "aggregator", "local_rule", _local_rule)]
    finally:
        aggregators.registry.unregister("local_rule")
    assert registry.local_components() == before


def test_install_registers_what_another_process_shipped_and_keeps_it_current() -> None:
    from bgdsim import registry

    shipped = [("bgdsim.aggregators", "aggregator", "local_rule", _local_rule)]
    registry.install(shipped)
    try:
        assert aggregators.get("local_rule") is _local_rule
        assert ("bgdsim.aggregators", "aggregator", "local_rule", _local_rule) in (
            registry.local_components()
        )  # a worker's own registrations are not bgdsim's: it would ship them on
        registry.install(shipped)  # the same again: nothing changes
        assert aggregators.get("local_rule") is _local_rule

        def edited(vectors: Any) -> Any:
            return vectors[1]

        # a worker that outlives a sweep (loky's reused executor, a long-lived Dask
        # cluster) gets the code the next sweep's process has, not what it kept
        registry.install([("bgdsim.aggregators", "aggregator", "local_rule", edited)])
        assert aggregators.get("local_rule") is edited
        builtin = aggregators.get("mean")
        with pytest.raises(ValueError, match="'mean' of the sweep's process is a built-in"):
            registry.install([("bgdsim.aggregators", "aggregator", "mean", edited)])
        assert aggregators.get("mean") is builtin
    finally:
        aggregators.registry.unregister("local_rule")


def test_an_alias_of_a_built_in_made_outside_bgdsim_is_shipped() -> None:
    from bgdsim import registry

    builtin = aggregators.get("mean")
    aggregators.register("mean_alias")(builtin)  # registered here, by this module
    try:
        assert ("bgdsim.aggregators", "aggregator", "mean_alias", builtin) in (
            registry.local_components()
        )
        assert not [c for c in registry.local_components() if c[2] == "mean"]
    finally:
        aggregators.registry.unregister("mean_alias")
