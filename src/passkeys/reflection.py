"""gRPC server reflection, v1 and v1alpha, for grpcurl, buf curl and Postman.

grpcio-reflection ships v1alpha only, while grpcurl and buf curl ask v1 first. v1 has the same
messages under another package name, so the same servicer answers both, and v1's file (made from
v1alpha's) goes into the default pool so that reflection can describe itself under either name.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2

V1 = "grpc.reflection.v1.ServerReflection"
V1ALPHA = reflection.SERVICE_NAME


def enable(server: grpc.Server | grpc.aio.Server, services: Iterable[str]) -> None:
    names = (*services, V1ALPHA, V1)
    reflection.enable_server_reflection(names, server)
    _add_v1_descriptor()
    servicer = (
        reflection.aio.ReflectionServicer(names)
        if isinstance(server, grpc.aio.Server)
        else reflection.ReflectionServicer(names)
    )
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(V1, {"ServerReflectionInfo": handler}),))


def _add_v1_descriptor() -> None:
    pool = descriptor_pool.Default()
    try:
        pool.FindServiceByName(V1)
        return
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto.FromString(reflection_pb2.DESCRIPTOR.serialized_pb)
    file.name, file.package = "grpc/reflection/v1/reflection.proto", "grpc.reflection.v1"
    file.options.Clear()
    for field in (f for message in file.message_type for f in message.field if f.type_name):
        field.type_name = field.type_name.replace(".v1alpha.", ".v1.")
    for method in file.service[0].method:
        method.input_type = method.input_type.replace(".v1alpha.", ".v1.")
        method.output_type = method.output_type.replace(".v1alpha.", ".v1.")
    pool.Add(file)
