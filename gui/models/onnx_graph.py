"""The parts of an ONNX file the form needs, read with the protobuf runtime (no `onnx`, no ONNX Runtime).

The `onnx` package would read it too, but it brings numpy and ml_dtypes into the app (about 40 MB of
wheels) to read five fields. `protobuf` (0.3 MB, no dependencies) parses the file against a subset of
onnx.proto declared below: protobuf field numbers never change, and fields not declared here (the
weights) are skipped. tests/unit/test_model_detect.py checks the answers against the `onnx` package.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# (message, [(field name, number, type, label, message type)]): a subset of onnx/onnx.proto (IR v10).
_SCHEMA = {
    "ModelProto": [("ir_version", 1, "int64"), ("producer_name", 2, "string"),
                   ("producer_version", 3, "string"), ("graph", 7, "GraphProto"),
                   ("opset_import", 8, "OperatorSetIdProto", "repeated"),
                   ("metadata_props", 14, "StringStringEntryProto", "repeated")],
    "OperatorSetIdProto": [("domain", 1, "string"), ("version", 2, "int64")],
    "StringStringEntryProto": [("key", 1, "string"), ("value", 2, "string")],
    "GraphProto": [("node", 1, "NodeProto", "repeated"), ("name", 2, "string"),
                   ("input", 11, "ValueInfoProto", "repeated"), ("output", 12, "ValueInfoProto", "repeated")],
    "NodeProto": [("op_type", 4, "string"), ("domain", 7, "string"),
                  ("attribute", 5, "AttributeProto", "repeated")],
    "AttributeProto": [("name", 1, "string"), ("ints", 8, "int64", "repeated"),
                       ("strings", 9, "bytes", "repeated")],
    "ValueInfoProto": [("name", 1, "string"), ("type", 2, "TypeProto")],
    "TypeProto": [("tensor_type", 1, "TypeProto.Tensor"), ("sequence_type", 4, "TypeProto.Sequence"),
                  ("map_type", 5, "TypeProto.Map")],
    "TypeProto.Tensor": [("elem_type", 1, "int32"), ("shape", 2, "TensorShapeProto")],
    "TypeProto.Sequence": [("elem_type", 1, "TypeProto")],
    "TypeProto.Map": [("key_type", 1, "int32"), ("value_type", 2, "TypeProto")],
    "TensorShapeProto": [("dim", 1, "TensorShapeProto.Dimension", "repeated")],
    "TensorShapeProto.Dimension": [("dim_value", 1, "int64"), ("dim_param", 2, "string")],
}
ELEM_TYPES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
              8: "string", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64"}
# ai.onnx.ml classifiers carry their classes as an attribute (skl2onnx, onnxmltools).
_CLASS_ATTRS = ("classlabels_ints", "classlabels_strings", "classlabels_int64s")


class NotOnnx(ValueError):
    """The bytes are not an ONNX model."""


@dataclass(frozen=True)
class Tensor:
    name: str
    elem_type: str  # "float32", ... ; "sequence" / "map" for skl2onnx's ZipMap output
    shape: tuple  # ints, or a str for a named (free) dimension, or None


@dataclass(frozen=True)
class OnnxGraph:
    ir_version: int
    opsets: dict
    producer: str
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    metadata: dict
    class_labels: tuple[str, ...]


@lru_cache(maxsize=1)
def _model_class():
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    fdp = descriptor_pb2.FileDescriptorProto(name="aics_onnx_subset.proto", package="aics_onnx",
                                             syntax="proto2")
    types = descriptor_pb2.FieldDescriptorProto
    scalar = {"int64": types.TYPE_INT64, "int32": types.TYPE_INT32, "string": types.TYPE_STRING,
              "bytes": types.TYPE_BYTES}
    messages: dict = {}
    for full in _SCHEMA:  # nested messages ("TypeProto.Tensor") are declared inside their parent
        parent, _, child = full.partition(".")
        if child:
            messages[full] = messages[parent].nested_type.add(name=child)
        else:
            messages[full] = fdp.message_type.add(name=full)
    for full, fields in _SCHEMA.items():
        for name, number, kind, *label in fields:
            f = messages[full].field.add(name=name, number=number)
            f.label = types.LABEL_REPEATED if label else types.LABEL_OPTIONAL
            if kind in scalar:
                f.type = scalar[kind]
            else:
                f.type = types.TYPE_MESSAGE
                f.type_name = f".aics_onnx.{kind}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("aics_onnx.ModelProto"))


def _tensor(value) -> Tensor:
    t = value.type
    if t.HasField("tensor_type"):
        dims = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                     for d in t.tensor_type.shape.dim)
        return Tensor(value.name, ELEM_TYPES.get(t.tensor_type.elem_type, "other"), dims)
    if t.HasField("sequence_type"):
        return Tensor(value.name, "sequence", ())
    if t.HasField("map_type"):
        return Tensor(value.name, "map", ())
    return Tensor(value.name, "other", ())


def read_onnx(data: bytes) -> OnnxGraph:
    """The model's inputs, outputs, opsets, metadata and class labels. Raises NotOnnx."""
    from google.protobuf.message import DecodeError

    model = _model_class()()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise NotOnnx(f"its bytes are not an ONNX protobuf ({exc})") from None
    graph = model.graph
    if model.ir_version < 1 or not model.HasField("graph") or not graph.input or not model.opset_import:
        raise NotOnnx("it has no ONNX graph with inputs (an ONNX model names its IR version, opsets and inputs)")
    labels: tuple[str, ...] = ()
    for node in graph.node:
        for a in node.attribute:
            if a.name in _CLASS_ATTRS and (a.ints or a.strings):
                labels = tuple(str(i) for i in a.ints) or tuple(s.decode("utf-8", "replace") for s in a.strings)
    return OnnxGraph(
        ir_version=int(model.ir_version),
        opsets={o.domain or "ai.onnx": int(o.version) for o in model.opset_import},
        producer=" ".join(p for p in (model.producer_name, model.producer_version) if p),
        inputs=tuple(_tensor(v) for v in graph.input),
        outputs=tuple(_tensor(v) for v in graph.output),
        metadata={p.key: p.value for p in model.metadata_props},
        class_labels=labels,
    )
