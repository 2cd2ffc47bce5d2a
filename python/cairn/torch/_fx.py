"""Blocks of a torch.fx-traced model for GraphModule: its call nodes grouped into blocks, each
block a callable that interprets its nodes."""
from typing import Any, Callable, Dict, Iterator, List, Tuple

import torch
import torch.fx

_OPS = ("call_module", "call_function", "call_method")
_WHO = "cairn.torch.GraphModule.from_fx"


class FxBlock:
    """Interprets a run of fx nodes; called with the values of `inputs` (fx nodes outside it)."""

    def __init__(self, root: torch.fx.GraphModule, nodes: List[torch.fx.Node],
                 inputs: List[torch.fx.Node]) -> None:
        self.root, self.nodes, self.inputs = root, nodes, inputs

    def _fetch(self, node: torch.fx.Node) -> Any:
        value: Any = self.root
        for part in str(node.target).split("."):
            value = getattr(value, part)
        return value

    def __call__(self, *args: Any) -> Any:
        env: Dict[torch.fx.Node, Any] = dict(zip(self.inputs, args))

        def load(a: torch.fx.Node) -> Any:
            return env[a] if a in env else self._fetch(a)

        value = None
        for n in self.nodes:
            a = torch.fx.node.map_arg(n.args, load)
            k = torch.fx.node.map_arg(n.kwargs, load)
            if n.op == "call_module":
                value = self.root.get_submodule(str(n.target))(*a, **k)
            elif n.op == "call_function":
                value = n.target(*a, **k)
            else:
                value = getattr(a[0], str(n.target))(*a[1:], **k)
            env[n] = value
        return value

    def _modules(self) -> Iterator[torch.nn.Module]:
        for n in self.nodes:
            if n.op == "call_module":
                yield self.root.get_submodule(str(n.target))

    def parameters(self) -> Iterator[torch.Tensor]:
        for m in self._modules():
            yield from m.parameters()
        for n in self.nodes:
            for a in n.all_input_nodes:
                if a.op == "get_attr" and isinstance(self._fetch(a), torch.nn.Parameter):
                    yield self._fetch(a)

    def buffers(self) -> Iterator[torch.Tensor]:
        for m in self._modules():
            yield from m.buffers()
        for n in self.nodes:
            for a in n.all_input_nodes:
                value = self._fetch(a) if a.op == "get_attr" else None
                if isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter):
                    yield value


def _has_parameters(root: torch.fx.GraphModule, n: torch.fx.Node) -> bool:
    return n.op == "call_module" and any(
        True for _ in root.get_submodule(str(n.target)).parameters())


def fx_blocks(traced: torch.fx.GraphModule) -> List[Tuple[str, Callable, List[str]]]:
    nodes = list(traced.graph.nodes)
    placeholders = [n for n in nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise ValueError(f"{_WHO}: the model must take exactly one input, it takes "
                         f"{len(placeholders)}")
    outputs = [n for n in nodes if n.op == "output"]
    result = outputs[0].args[0]
    if not isinstance(result, torch.fx.Node) or result.op not in _OPS:
        raise ValueError(f"{_WHO}: the model must return one tensor computed by it (got "
                         f"{result!r})")
    groups: List[List[torch.fx.Node]] = []
    group_of: Dict[torch.fx.Node, int] = {}
    for n in nodes:
        if n.op not in _OPS:
            continue
        deps = [a for a in n.all_input_nodes if a.op != "get_attr"]
        joins = (len(deps) == 1 and deps[0] in group_of and group_of[deps[0]] == len(groups) - 1
                 and groups[-1][-1] is deps[0] and len(deps[0].users) == 1
                 and not _has_parameters(traced, n))
        if joins:
            groups[-1].append(n)
        else:
            groups.append([n])
        group_of[n] = len(groups) - 1
    if groups[-1][-1] is not result:
        raise ValueError(f"{_WHO}: the model's output must be its last operation ({result.name} "
                         f"is not)")
    blocks: List[Tuple[str, Callable, List[str]]] = []
    names = [g[0].name for g in groups]
    for g in groups:
        members = set(g)
        inputs: List[torch.fx.Node] = []
        for n in g:
            for a in n.all_input_nodes:
                if a.op != "get_attr" and a not in members and a not in inputs:
                    inputs.append(a)
        input_names = ["input" if a.op == "placeholder" else names[group_of[a]] for a in inputs]
        blocks.append((g[0].name, FxBlock(traced, g, inputs), input_names))
    return blocks
