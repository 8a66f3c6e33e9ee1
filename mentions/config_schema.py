"""The JSON Schema of the config file (`mentions schema`), for editors' completion and checks."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from mentions.config import Config


class _WrittenTextSchema(GenerateJsonSchema):
    """Where the config wants text, a number or yes/no is accepted too.

    The loader reads a plain scalar that YAML 1.1 made a number or boolean (`1984`, `On`,
    `no`) as the text written wherever a string is wanted (config_file.py), so an editor
    must not mark `terms: [On, 1984]` wrong. Literals (`tls`), numbers and yes/no fields
    are described by other methods and keep their types."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        return {**super().str_schema(schema), "type": ["string", "number", "boolean"]}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the config file, for editors."""
    schema = Config.model_json_schema(by_alias=True, schema_generator=_WrittenTextSchema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mentions config"
    return schema
