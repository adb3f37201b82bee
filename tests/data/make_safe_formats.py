"""Writes the small safetensors, GGUF and ONNX files of tests/data with the real libraries.

    python tests/data/make_safe_formats.py tests/data

Needs safetensors 0.8.0, numpy, gguf 0.19.0 and onnx 1.23.2 (not in the fixtures venv: the files
are committed, and CI only reads them). Deterministic: running it again writes the same bytes.
"""

import os
import sys
import tempfile

import numpy as np


def safetensors_files(out):
    from safetensors.numpy import save_file

    tensors = {
        "embed.weight": np.arange(12, dtype=np.float32).reshape(3, 4),
        "head.bias": np.array([1, -2], dtype=np.int64),
        "mask": np.array([True, False, True]),
        "empty": np.zeros((0, 3), dtype=np.float16),
        "scalar": np.array(2.5, dtype=np.float64),
    }
    # One metadata key: the reference writer's metadata map has no stable order otherwise.
    save_file(tensors, os.path.join(out, "tiny.safetensors"), metadata={"format": "pt"})


def gguf_file(out):
    import gguf

    w = gguf.GGUFWriter(os.path.join(out, "tiny.gguf"), "llama")
    w.add_block_count(1)
    w.add_context_length(32)
    w.add_string("general.name", "tiny")
    w.add_token_list(["<s>", "</s>", "a", "b"])
    w.add_float32("llama.rope.freq_base", 10000.0)
    w.add_tensor("token_embd.weight", np.arange(8, dtype=np.float32).reshape(2, 4))
    w.add_tensor("output_norm.weight", np.ones(4, dtype=np.float16))
    q = np.zeros((1, 34), dtype=np.uint8)  # one Q8_0 block of 32 values, as raw bytes
    w.add_tensor("blk.0.attn_q.weight", q, raw_shape=(1, 34), raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def onnx_files(out):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def model(name, location):
        w = numpy_helper.from_array(np.arange(4, dtype=np.float32).reshape(2, 2), "w")
        big = numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(4, 4), "big")
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Add", ["y", "big"], ["z"])],
            name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
            [helper.make_tensor_value_info("z", TensorProto.FLOAT, [4, 4])],
            [w, big],
        )
        m = helper.make_model(graph, producer_name="pickle-doctor-tests", opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        if location is not None:
            # Point "big" at a file, the way onnx.save(..., save_as_external_data=True) does.
            t = m.graph.initializer[1]
            raw = t.raw_data
            t.ClearField("raw_data")
            t.data_location = TensorProto.EXTERNAL
            for k, v in (("location", location), ("offset", "0"), ("length", str(len(raw)))):
                e = t.external_data.add()
                e.key, e.value = k, v
        return m

    with open(os.path.join(out, "tiny.onnx"), "wb") as f:
        f.write(model("tiny", None).SerializeToString())
    with open(os.path.join(out, "external.onnx"), "wb") as f:
        f.write(model("external", "external.onnx.data").SerializeToString())
    with open(os.path.join(out, "external.onnx.data"), "wb") as f:
        f.write(np.arange(16, dtype=np.float32).tobytes())
    onnx.load(os.path.join(out, "external.onnx"))
    # The tests make a model whose external data escapes its folder by replacing the location
    # with one of the same length (the protobuf lengths stay valid): onnx >= 1.16 refuses it.
    escaped = open(os.path.join(out, "external.onnx"), "rb").read().replace(
        b"external.onnx.data", b"../../../../x.data")
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "escape.onnx"), "wb") as f:
            f.write(escaped)
        try:
            onnx.load(os.path.join(tmp, "escape.onnx"))
            raise SystemExit("onnx.load accepted external data outside the model's folder")
        except onnx.checker.ValidationError as e:
            print("escape.onnx: onnx.load refuses it:", e, file=sys.stderr)


def main():
    out = sys.argv[1]
    safetensors_files(out)
    gguf_file(out)
    onnx_files(out)


if __name__ == "__main__":
    main()
