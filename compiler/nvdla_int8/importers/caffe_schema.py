"""The part of Caffe's message schema (caffe.proto, package `caffe`) that deploy networks of the
supported layers use, built at run time with descriptor_pb2, so reading .prototxt / .caffemodel
files needs neither Caffe nor protoc.

Field names, numbers, types and defaults are Caffe's public wire format (a .caffemodel written by
Caffe parses with these definitions and vice versa); the definitions below are ours and cover only
what the importer reads, plus the training-only fields that deploy files commonly still carry
(`param { lr_mult }`, fillers, `engine`), so that those parse instead of failing as unknown.

`messages()` returns the generated classes, e.g. `messages().NetParameter`.
"""
from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "double": _F.TYPE_DOUBLE, "float": _F.TYPE_FLOAT, "int64": _F.TYPE_INT64, "uint64": _F.TYPE_UINT64,
    "int32": _F.TYPE_INT32, "uint32": _F.TYPE_UINT32, "bool": _F.TYPE_BOOL, "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
}

# Enums: name -> ((value name, number), ...). Nested enums are named "Message.Enum".
_ENUMS = {
    "Phase": (("TRAIN", 0), ("TEST", 1)),
    "FillerParameter.VarianceNorm": (("FAN_IN", 0), ("FAN_OUT", 1), ("AVERAGE", 2)),
    "ParamSpec.DimCheckMode": (("STRICT", 0), ("PERMISSIVE", 1)),
    "ConvolutionParameter.Engine": (("DEFAULT", 0), ("CAFFE", 1), ("CUDNN", 2)),
    "PoolingParameter.PoolMethod": (("MAX", 0), ("AVE", 1), ("STOCHASTIC", 2)),
    "PoolingParameter.Engine": (("DEFAULT", 0), ("CAFFE", 1), ("CUDNN", 2)),
    "PoolingParameter.RoundMode": (("CEIL", 0), ("FLOOR", 1)),
    "EltwiseParameter.EltwiseOp": (("PROD", 0), ("SUM", 1), ("MAX", 2)),
    "ReLUParameter.Engine": (("DEFAULT", 0), ("CAFFE", 1), ("CUDNN", 2)),
    "SoftmaxParameter.Engine": (("DEFAULT", 0), ("CAFFE", 1), ("CUDNN", 2)),
    "V1LayerParameter.LayerType": (
        ("NONE", 0), ("ABSVAL", 35), ("ACCURACY", 1), ("ARGMAX", 30), ("BNLL", 2), ("CONCAT", 3),
        ("CONTRASTIVE_LOSS", 37), ("CONVOLUTION", 4), ("DATA", 5), ("DECONVOLUTION", 39), ("DROPOUT", 6),
        ("DUMMY_DATA", 32), ("EUCLIDEAN_LOSS", 7), ("ELTWISE", 25), ("EXP", 38), ("FLATTEN", 8),
        ("HDF5_DATA", 9), ("HDF5_OUTPUT", 10), ("HINGE_LOSS", 28), ("IM2COL", 11), ("IMAGE_DATA", 12),
        ("INFOGAIN_LOSS", 13), ("INNER_PRODUCT", 14), ("LRN", 15), ("MEMORY_DATA", 29),
        ("MULTINOMIAL_LOGISTIC_LOSS", 16), ("MVN", 34), ("POOLING", 17), ("POWER", 26), ("RELU", 18),
        ("SIGMOID", 19), ("SIGMOID_CROSS_ENTROPY_LOSS", 27), ("SILENCE", 36), ("SOFTMAX", 20),
        ("SOFTMAX_LOSS", 21), ("SPLIT", 22), ("SLICE", 33), ("TANH", 23), ("WINDOW_DATA", 24),
        ("THRESHOLD", 31)),
}

# V1 layer type enum -> the layer type string of the current format.
V1_TYPES = {
    "ABSVAL": "AbsVal", "ACCURACY": "Accuracy", "ARGMAX": "ArgMax", "BNLL": "BNLL", "CONCAT": "Concat",
    "CONTRASTIVE_LOSS": "ContrastiveLoss", "CONVOLUTION": "Convolution", "DATA": "Data",
    "DECONVOLUTION": "Deconvolution", "DROPOUT": "Dropout", "DUMMY_DATA": "DummyData",
    "EUCLIDEAN_LOSS": "EuclideanLoss", "ELTWISE": "Eltwise", "EXP": "Exp", "FLATTEN": "Flatten",
    "HDF5_DATA": "HDF5Data", "HDF5_OUTPUT": "HDF5Output", "HINGE_LOSS": "HingeLoss", "IM2COL": "Im2col",
    "IMAGE_DATA": "ImageData", "INFOGAIN_LOSS": "InfogainLoss", "INNER_PRODUCT": "InnerProduct",
    "LRN": "LRN", "MEMORY_DATA": "MemoryData", "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
    "MVN": "MVN", "POOLING": "Pooling", "POWER": "Power", "RELU": "ReLU", "SIGMOID": "Sigmoid",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss", "SILENCE": "Silence", "SOFTMAX": "Softmax",
    "SOFTMAX_LOSS": "SoftmaxWithLoss", "SPLIT": "Split", "SLICE": "Slice", "TANH": "TanH",
    "WINDOW_DATA": "WindowData", "THRESHOLD": "Threshold",
}

# Messages: name -> fields (name, number, type, label, default). label: "?" optional, "*" repeated,
# "*p" repeated packed. A type that is not a scalar names a message or an enum of this file.
_PARAMS_V2 = (("param", 6, "ParamSpec", "*"), ("blobs", 7, "BlobProto", "*"))
_MESSAGES = {
    "BlobShape": (("dim", 1, "int64", "*p"),),
    "BlobProto": (
        ("shape", 7, "BlobShape", "?"), ("data", 5, "float", "*p"), ("diff", 6, "float", "*p"),
        ("double_data", 8, "double", "*p"), ("double_diff", 9, "double", "*p"),
        ("num", 1, "int32", "?", "0"), ("channels", 2, "int32", "?", "0"),
        ("height", 3, "int32", "?", "0"), ("width", 4, "int32", "?", "0")),
    "FillerParameter": (
        ("type", 1, "string", "?", "constant"), ("value", 2, "float", "?", "0"), ("min", 3, "float", "?", "0"),
        ("max", 4, "float", "?", "1"), ("mean", 5, "float", "?", "0"), ("std", 6, "float", "?", "1"),
        ("sparse", 7, "int32", "?", "-1"), ("variance_norm", 8, "FillerParameter.VarianceNorm", "?", "FAN_IN")),
    "NetState": (("phase", 1, "Phase", "?", "TEST"), ("level", 2, "int32", "?", "0"), ("stage", 3, "string", "*")),
    "NetStateRule": (
        ("phase", 1, "Phase", "?"), ("min_level", 2, "int32", "?"), ("max_level", 3, "int32", "?"),
        ("stage", 4, "string", "*"), ("not_stage", 5, "string", "*")),
    "ParamSpec": (
        ("name", 1, "string", "?"), ("share_mode", 2, "ParamSpec.DimCheckMode", "?"),
        ("lr_mult", 3, "float", "?", "1"), ("decay_mult", 4, "float", "?", "1")),
    "NetParameter": (
        ("name", 1, "string", "?"), ("input", 3, "string", "*"), ("input_shape", 8, "BlobShape", "*"),
        ("input_dim", 4, "int32", "*"), ("force_backward", 5, "bool", "?", "false"),
        ("state", 6, "NetState", "?"), ("debug_info", 7, "bool", "?", "false"),
        ("layer", 100, "LayerParameter", "*"), ("layers", 2, "V1LayerParameter", "*")),
    "LayerParameter": (
        ("name", 1, "string", "?"), ("type", 2, "string", "?"), ("bottom", 3, "string", "*"),
        ("top", 4, "string", "*"), ("phase", 10, "Phase", "?"), ("loss_weight", 5, "float", "*"),
        *_PARAMS_V2, ("propagate_down", 11, "bool", "*"),
        ("include", 8, "NetStateRule", "*"), ("exclude", 9, "NetStateRule", "*"),
        ("batch_norm_param", 139, "BatchNormParameter", "?"), ("concat_param", 104, "ConcatParameter", "?"),
        ("convolution_param", 106, "ConvolutionParameter", "?"), ("dropout_param", 108, "DropoutParameter", "?"),
        ("eltwise_param", 110, "EltwiseParameter", "?"), ("flatten_param", 135, "FlattenParameter", "?"),
        ("inner_product_param", 117, "InnerProductParameter", "?"), ("input_param", 143, "InputParameter", "?"),
        ("pooling_param", 121, "PoolingParameter", "?"), ("relu_param", 123, "ReLUParameter", "?"),
        ("scale_param", 142, "ScaleParameter", "?"), ("softmax_param", 125, "SoftmaxParameter", "?")),
    "V1LayerParameter": (
        ("bottom", 2, "string", "*"), ("top", 3, "string", "*"), ("name", 4, "string", "?"),
        ("include", 32, "NetStateRule", "*"), ("exclude", 33, "NetStateRule", "*"),
        ("type", 5, "V1LayerParameter.LayerType", "?"), ("blobs", 6, "BlobProto", "*"),
        ("param", 1001, "string", "*"), ("blobs_lr", 7, "float", "*"), ("weight_decay", 8, "float", "*"),
        ("loss_weight", 35, "float", "*"),
        ("concat_param", 9, "ConcatParameter", "?"), ("convolution_param", 10, "ConvolutionParameter", "?"),
        ("dropout_param", 12, "DropoutParameter", "?"), ("eltwise_param", 24, "EltwiseParameter", "?"),
        ("inner_product_param", 17, "InnerProductParameter", "?"), ("pooling_param", 19, "PoolingParameter", "?"),
        ("relu_param", 30, "ReLUParameter", "?"), ("softmax_param", 39, "SoftmaxParameter", "?")),
    "BatchNormParameter": (
        ("use_global_stats", 1, "bool", "?"), ("moving_average_fraction", 2, "float", "?", "0.999"),
        ("eps", 3, "float", "?", "1e-05")),
    "ConcatParameter": (("axis", 2, "int32", "?", "1"), ("concat_dim", 1, "uint32", "?", "1")),
    "ConvolutionParameter": (
        ("num_output", 1, "uint32", "?"), ("bias_term", 2, "bool", "?", "true"), ("pad", 3, "uint32", "*"),
        ("kernel_size", 4, "uint32", "*"), ("stride", 6, "uint32", "*"), ("dilation", 18, "uint32", "*"),
        ("pad_h", 9, "uint32", "?", "0"), ("pad_w", 10, "uint32", "?", "0"), ("kernel_h", 11, "uint32", "?"),
        ("kernel_w", 12, "uint32", "?"), ("stride_h", 13, "uint32", "?"), ("stride_w", 14, "uint32", "?"),
        ("group", 5, "uint32", "?", "1"), ("weight_filler", 7, "FillerParameter", "?"),
        ("bias_filler", 8, "FillerParameter", "?"), ("engine", 15, "ConvolutionParameter.Engine", "?", "DEFAULT"),
        ("axis", 16, "int32", "?", "1"), ("force_nd_im2col", 17, "bool", "?", "false")),
    "DropoutParameter": (("dropout_ratio", 1, "float", "?", "0.5"),),
    "EltwiseParameter": (
        ("operation", 1, "EltwiseParameter.EltwiseOp", "?", "SUM"), ("coeff", 2, "float", "*"),
        ("stable_prod_grad", 3, "bool", "?", "true")),
    "FlattenParameter": (("axis", 1, "int32", "?", "1"), ("end_axis", 2, "int32", "?", "-1")),
    "InnerProductParameter": (
        ("num_output", 1, "uint32", "?"), ("bias_term", 2, "bool", "?", "true"),
        ("weight_filler", 3, "FillerParameter", "?"), ("bias_filler", 4, "FillerParameter", "?"),
        ("axis", 5, "int32", "?", "1"), ("transpose", 6, "bool", "?", "false")),
    "InputParameter": (("shape", 1, "BlobShape", "*"),),
    "PoolingParameter": (
        ("pool", 1, "PoolingParameter.PoolMethod", "?", "MAX"), ("pad", 4, "uint32", "?", "0"),
        ("pad_h", 9, "uint32", "?", "0"), ("pad_w", 10, "uint32", "?", "0"), ("kernel_size", 2, "uint32", "?"),
        ("kernel_h", 5, "uint32", "?"), ("kernel_w", 6, "uint32", "?"), ("stride", 3, "uint32", "?", "1"),
        ("stride_h", 7, "uint32", "?"), ("stride_w", 8, "uint32", "?"),
        ("engine", 11, "PoolingParameter.Engine", "?", "DEFAULT"), ("global_pooling", 12, "bool", "?", "false"),
        ("round_mode", 13, "PoolingParameter.RoundMode", "?", "CEIL")),
    "ReLUParameter": (("negative_slope", 1, "float", "?", "0"), ("engine", 2, "ReLUParameter.Engine", "?", "DEFAULT")),
    "ScaleParameter": (
        ("axis", 1, "int32", "?", "1"), ("num_axes", 2, "int32", "?", "1"), ("filler", 3, "FillerParameter", "?"),
        ("bias_term", 4, "bool", "?", "false"), ("bias_filler", 5, "FillerParameter", "?")),
    "SoftmaxParameter": (("engine", 1, "SoftmaxParameter.Engine", "?", "DEFAULT"), ("axis", 2, "int32", "?", "1")),
}


def _file_proto() -> descriptor_pb2.FileDescriptorProto:
    fp = descriptor_pb2.FileDescriptorProto(name="nvdla_int8_caffe_subset.proto", package="caffe", syntax="proto2")
    msgs = {}
    for name, fields in _MESSAGES.items():
        m = fp.message_type.add(name=name)
        msgs[name] = m
        for spec in fields:
            fname, number, ftype, label = spec[:4]
            f = m.field.add(name=fname, number=number)
            f.label = _F.LABEL_REPEATED if label.startswith("*") else _F.LABEL_OPTIONAL
            if label == "*p":
                f.options.packed = True
            if ftype in _SCALARS:
                f.type = _SCALARS[ftype]
            else:
                f.type_name = f".caffe.{ftype}"
                f.type = _F.TYPE_ENUM if ftype in _ENUMS else _F.TYPE_MESSAGE
            if len(spec) > 4:
                f.default_value = spec[4]
    for name, values in _ENUMS.items():
        owner, _, ename = name.rpartition(".")
        e = (msgs[owner].enum_type if owner else fp.enum_type).add(name=ename)
        for vname, number in values:
            e.value.add(name=vname, number=number)
    return fp


@lru_cache(maxsize=None)
def messages() -> SimpleNamespace:
    """The message classes, in a private descriptor pool (no clash with a `caffe` package
    another library may have registered in protobuf's default pool)."""
    pool = descriptor_pool.DescriptorPool()
    fd = pool.AddSerializedFile(_file_proto().SerializeToString())
    return SimpleNamespace(**{name: message_factory.GetMessageClass(fd.message_types_by_name[name])
                              for name in _MESSAGES})
