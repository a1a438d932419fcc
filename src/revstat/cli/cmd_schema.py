"""`revstat schema`: the JSON Schema of indicator and source files, for editors."""

from __future__ import annotations

import typer

from revstat.cli import common


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)


def schema(
    kind: str = typer.Argument("indicators", help="indicators | sources"),
) -> None:
    """输出 indicators/*.yaml 或 sources/*.yaml 的 JSON Schema（供编辑器补全和校验）。

    Print the JSON Schema of indicator files (or of source files), e.g. for the YAML
    language server: `# yaml-language-server: $schema=indicators.schema.json`.

    Example: revstat schema indicators > indicators.schema.json
    """
    with common.guarded():
        import json

        from revstat.definitions import schemas
        from revstat.errors import DefinitionError
        from revstat.i18n import t

        all_schemas = schemas()
        if kind not in all_schemas:
            raise DefinitionError(t("未知的类型 {k}", "unknown kind {k}", k=kind), None,
                                  t("可用：{ks}", "one of: {ks}", ks=", ".join(all_schemas)))
        common.echo(json.dumps(all_schemas[kind], ensure_ascii=False, indent=2))
