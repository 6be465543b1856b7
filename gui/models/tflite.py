"""The input and output tensors of a .tflite file, read from its FlatBuffer without a TFLite runtime.

Only four tables of tensorflow/compiler/mlir/lite/schema/schema.fbs are walked (Model.subgraphs,
SubGraph.tensors/inputs/outputs, Tensor.shape/type); a FlatBuffer is offsets and little-endian
integers, so this is struct reads with every offset checked against the file's length.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

TENSOR_TYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool",
                7: "int16", 9: "int8", 10: "float64"}


class NotTflite(ValueError):
    """The bytes do not hold the tables a TFLite model has."""


@dataclass(frozen=True)
class TfliteModel:
    input_shape: tuple[int, ...]
    input_type: str
    output_shape: tuple[int, ...]


class _Buf:
    def __init__(self, data: bytes):
        self.data = data

    def u32(self, at: int) -> int:
        if at < 0 or at + 4 > len(self.data):
            raise NotTflite("an offset points outside the file (truncated?)")
        return struct.unpack_from("<I", self.data, at)[0]

    def i32(self, at: int) -> int:
        return struct.unpack_from("<i", self.data, at)[0] if 0 <= at <= len(self.data) - 4 else self.u32(-1)

    def u16(self, at: int) -> int:
        if at < 0 or at + 2 > len(self.data):
            raise NotTflite("a table description lies outside the file")
        return struct.unpack_from("<H", self.data, at)[0]

    def field(self, table: int, index: int) -> int | None:
        """The position of field `index` of the table at `table`, or None when it is absent."""
        vtable = table - self.i32(table)
        size = self.u16(vtable)
        slot = 4 + 2 * index
        if slot + 2 > size:
            return None
        off = self.u16(vtable + slot)
        return table + off if off else None

    def ref(self, at: int) -> int:
        return at + self.u32(at)

    def vector(self, table: int, index: int) -> tuple[int, int]:
        """(first element's position, length) of a vector field; (0, 0) when absent."""
        at = self.field(table, index)
        if at is None:
            return 0, 0
        start = self.ref(at)
        n = self.u32(start)
        if start + 4 + 4 * n > len(self.data):
            raise NotTflite("a vector runs past the end of the file (truncated?)")
        return start + 4, n

    def tables(self, table: int, index: int) -> list[int]:
        start, n = self.vector(table, index)
        return [self.ref(start + 4 * i) for i in range(n)]

    def ints(self, table: int, index: int) -> list[int]:
        start, n = self.vector(table, index)
        return [self.i32(start + 4 * i) for i in range(n)]


def read_tflite(data: bytes) -> TfliteModel:
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise NotTflite("it lacks the TFL3 identifier")
    b = _Buf(data)
    model = b.ref(0)
    subgraphs = b.tables(model, 2)
    if not subgraphs:
        raise NotTflite("it has no subgraph")
    graph = subgraphs[0]
    tensors = b.tables(graph, 0)
    inputs, outputs = b.ints(graph, 1), b.ints(graph, 2)
    if not inputs or not outputs or max(inputs + outputs) >= len(tensors) or min(inputs + outputs) < 0:
        raise NotTflite("its inputs or outputs name no tensor")

    def tensor(i: int) -> tuple[tuple[int, ...], str]:
        t = tensors[i]
        kind = b.field(t, 1)
        return tuple(b.ints(t, 0)), TENSOR_TYPES.get(data[kind] if kind is not None else 0, "other")

    in_shape, in_type = tensor(inputs[0])
    out_shape, _ = tensor(outputs[0])
    return TfliteModel(in_shape, in_type, out_shape)
