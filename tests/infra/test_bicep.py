"""Static checks of infra/: syntax (tree-sitter-bicep), structure (pycep-parser) and the
consistency of the Bicep with the app it deploys. Nothing here talks to Azure."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from shared.config import SETTINGS, Kind
from shared.domain.runs import RunSummary
from shared.ports import PARTITION_KEYS
from tests.infra.bicep import (
    BICEP_FILES,
    INFRA,
    ROOT,
    all_resources,
    parameter_defaults,
    parameters_file,
    parsed,
    resource,
    variable,
)

FUNCTION = "app/function.bicep"
COSMOS = "app/cosmos.bicep"


def _app_settings() -> dict[str, Any]:
    settings: dict[str, Any] = resource(FUNCTION, "appSettings")["properties"]
    return settings


def test_there_is_a_main_file_and_modules() -> None:
    names = {str(p.relative_to(INFRA)) for p in BICEP_FILES}
    assert {"main.bicep", FUNCTION, COSMOS, "app/keyvault.bicep", "app/alerts.bicep"} <= names


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_tree_sitter_parses_every_file_without_error(path: Path) -> None:
    import tree_sitter  # noqa: PLC0415
    import tree_sitter_bicep  # noqa: PLC0415

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))
    tree = parser.parse(path.read_bytes())
    assert not tree.root_node.has_error, f"{path.name}: syntax error"


def test_tree_sitter_catches_a_syntax_error() -> None:
    import tree_sitter  # noqa: PLC0415
    import tree_sitter_bicep  # noqa: PLC0415

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))
    broken = (
        (INFRA / "app/identity.bicep").read_bytes().replace(b"location: location", b"loc ation")
    )
    assert parser.parse(broken).root_node.has_error


EXPECTED_TYPES = {
    "Microsoft.Web/serverfarms": "2024-04-01",
    "Microsoft.Web/sites": "2024-04-01",
    "Microsoft.Web/sites/config": "2024-04-01",
    "Microsoft.Web/sites/basicPublishingCredentialsPolicies": "2024-04-01",
    "Microsoft.Storage/storageAccounts": "2024-01-01",
    "Microsoft.Storage/storageAccounts/blobServices": "2024-01-01",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "2024-01-01",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2023-01-31",
    "Microsoft.OperationalInsights/workspaces": "2023-09-01",
    "Microsoft.Insights/components": "2020-02-02",
    "Microsoft.DocumentDB/databaseAccounts": "2024-11-15",
    "Microsoft.DocumentDB/databaseAccounts/sqlDatabases": "2024-11-15",
    "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers": "2024-11-15",
    "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments": "2024-11-15",
    "Microsoft.KeyVault/vaults": "2023-07-01",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
    "Microsoft.Insights/actionGroups": "2023-01-01",
    "Microsoft.Insights/scheduledQueryRules": "2023-12-01",
    "Microsoft.Insights/metricAlerts": "2018-03-01",
    "Microsoft.Resources/resourceGroups": "2024-03-01",
    "Microsoft.Insights/diagnosticSettings": "2021-05-01-preview",
}


@pytest.mark.parametrize(
    ("path", "categories"),
    [
        ("app/keyvault.bicep", {"AuditEvent"}),
        (COSMOS, {"DataPlaneRequests", "ControlPlaneRequests"}),
        (FUNCTION, {"FunctionAppLogs"}),
    ],
)
def test_resource_logs_go_to_the_workspace(path: str, categories: set[str]) -> None:
    """Issue 22, item 11: Key Vault, Cosmos DB and the Function App log to Log Analytics."""
    setting = resource(path, "diagnostics")["properties"]
    assert setting["workspaceId"] == "workspaceId"
    assert {c["category"] for c in setting["logs"] if c["enabled"] is True} == categories


def test_logs_are_kept_as_long_as_the_retention_parameter_says() -> None:
    assert parameter_defaults("main.bicep")["logRetentionDays"] == 365
    assert parameter_defaults("app/monitoring.bicep")["retentionInDays"] == 365
    workspace = resource("app/monitoring.bicep", "workspace")["properties"]
    assert workspace["retentionInDays"] == "retentionInDays"


def test_a_secret_read_by_anyone_but_the_app_is_alerted() -> None:
    rule = resource("app/alerts.bicep", "secretReads")["properties"]
    (criterion,) = rule["criteria"]["allOf"]
    assert '"SecretGet"' in criterion["query"]
    assert "${appPrincipalId}" in criterion["query"]
    assert rule["scopes"] == ["workspaceId"]


def test_key_vault_purge_protection_is_on_for_production() -> None:
    """Issue 22, item 10: prod (the default kind) protects the vault holding DESK-HASH-KEY."""
    assert parameter_defaults("main.bicep")["environmentKind"] == "prod"
    assert parameter_defaults("app/keyvault.bicep")["purgeProtection"] is True
    vault = resource("app/keyvault.bicep", "vault")["properties"]
    assert vault["enableSoftDelete"] is True
    assert "purgeProtection" in str(vault["enablePurgeProtection"])


def test_resource_types_and_api_versions_are_the_known_ones() -> None:
    seen = {(entry["type"], entry["api_version"]) for _, _, entry in all_resources()}
    assert seen == set(EXPECTED_TYPES.items())


def test_no_registry_modules() -> None:
    for path in BICEP_FILES:
        modules = parsed(str(path.relative_to(INFRA))).get("modules", {})
        for name, module in modules.items():
            assert module["type"] == "local", f"{path.name}: module {name} is not a local file"
            assert (path.parent / module["detail"]["path"]).is_file()


def test_module_parameters_exist_and_required_ones_are_passed() -> None:
    for name, module in parsed("main.bicep")["modules"].items():
        declared = parameter_defaults(module["detail"]["path"])
        given = set(module["config"]["params"])
        assert given <= set(declared), f"module {name} passes unknown {given - set(declared)}"
        required = {p for p, default in declared.items() if default is None}
        assert required <= given, f"module {name} misses {required - given}"


def test_parameters_file_names_only_declared_parameters() -> None:
    declared = parameter_defaults("main.bicep")
    given = set(parameters_file())
    assert given <= set(declared)
    required = {p for p, default in declared.items() if default is None}
    assert required <= given


def test_flex_consumption_plan_python_311() -> None:
    plan = resource(FUNCTION, "plan")
    assert plan["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    assert plan["properties"]["reserved"] is True
    site = resource(FUNCTION, "site")
    assert site["kind"] == "functionapp,linux"
    config = site["properties"]["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    scale = config["scaleAndConcurrency"]
    assert scale["instanceMemoryMB"] == "instanceMemoryMB"
    assert scale["maximumInstanceCount"] == "maximumInstanceCount"
    assert scale["alwaysReady"] == [{"name": "http", "instanceCount": "alwaysReadyHttpInstances"}]
    assert scale["triggers"]["http"]["perInstanceConcurrency"] == "httpPerInstanceConcurrency"
    main = parameter_defaults("main.bicep")
    assert main["alwaysReadyHttpInstances"] == 1
    assert main["maximumInstanceCount"] >= 40
    assert main["instanceMemoryMB"] in {512, 2048, 4096}


def test_deployment_storage_and_host_storage_use_the_identity() -> None:
    site = resource(FUNCTION, "site")
    deployment = site["properties"]["functionAppConfig"]["deployment"]["storage"]
    assert deployment["type"] == "blobContainer"
    assert deployment["authentication"]["type"] == "UserAssignedIdentity"
    settings = _app_settings()
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__clientId"] == "identityClientId"
    assert settings["AzureWebJobsStorage__blobServiceUri"] == "storageBlobEndpoint"
    assert "AzureWebJobsStorage" not in settings
    assert settings["AZURE_CLIENT_ID"] == "identityClientId"
    account = resource("app/storage.bicep", "account")["properties"]
    assert account["allowSharedKeyAccess"] is False
    assert account["allowBlobPublicAccess"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert resource("app/storage.bicep", "deployment")["parent"] == "blobs"


FLEX_REFUSES = {
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "ENABLE_ORYX_BUILD",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
    "WEBSITE_TIME_ZONE",
    "TZ",
}


def test_no_setting_that_flex_refuses() -> None:
    assert not FLEX_REFUSES & set(_app_settings())
    site_config = resource(FUNCTION, "site")["properties"]["siteConfig"]
    assert not {"alwaysOn", "linuxFxVersion", "appSettings"} & set(site_config)


def test_secrets_are_versionless_key_vault_references_resolved_by_the_identity() -> None:
    settings = _app_settings()
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "DESK_HASH_KEY"):
        match = re.fullmatch(
            r"@Microsoft\.KeyVault\(SecretUri=\$\{keyVaultUri\}secrets/([A-Za-z0-9-]+)/\)",
            settings[name],
        )
        assert match, f"{name} is not a versionless Key Vault reference"
        assert match.group(1) == name.replace("_", "-")
    site = resource(FUNCTION, "site")
    assert site["properties"]["keyVaultReferenceIdentity"] == "identityId"
    assert "keyVaultReferenceIdentity" not in site["properties"]["siteConfig"]
    assert site["identity"]["type"] == "UserAssigned"
    vault = resource("app/keyvault.bicep", "vault")["properties"]
    assert vault["enableRbacAuthorization"] is True


def test_cosmos_account_is_hardened_and_serverless_by_default() -> None:
    account = resource(COSMOS, "account")["properties"]
    assert account["disableLocalAuth"] is True
    assert account["minimalTlsVersion"] == "Tls12"
    assert account["backupPolicy"] == {
        "type": "Continuous",
        "continuousModeProperties": {"tier": "Continuous7Days"},
    }
    assert account["capabilities"]["operator"]["operands"]["condition"] == "isServerless"
    assert variable(COSMOS, "serverlessCapabilities") == [{"name": "EnableServerless"}]
    assert parameter_defaults(COSMOS)["capacityMode"] == "serverless"
    assert parameter_defaults("main.bicep")["cosmosCapacityMode"] == "serverless"
    database = resource(COSMOS, "database")
    assert parameter_defaults(COSMOS)["databaseName"] == "desk"
    assert (
        database["properties"]["options"]["operator"]["operands"]["false_value"]
        == "autoscaleOptions"
    )


def test_containers_match_the_app_partition_keys_with_ttl_on_and_no_default() -> None:
    for symbol in ("users", "desk"):
        body = resource(COSMOS, symbol)["properties"]["resource"]
        assert body["id"] in PARTITION_KEYS
        assert body["partitionKey"]["paths"] == [f"/{PARTITION_KEYS[body['id']]}"]
        # -1 (pycep keeps it as unary minus 1): TTL on, nothing expires without its own `ttl`.
        assert body["defaultTtl"] == {
            "operator": {"type": "minus", "operands": {"integer_value": 1}}
        }
        assert body["indexingPolicy"]["excludedPaths"] == "excludedPaths"
        assert body["indexingPolicy"]["includedPaths"] == [{"path": "/*"}]
    assert {resource(COSMOS, s)["name"] for s in ("users", "desk")} == set(PARTITION_KEYS)


# Fields the services filter or page on: these must stay indexed.
QUERIED_FIELDS = {"id", "type", "status", "userId", "pk", "sessionId", "at", "createdAt"}


def test_index_leaves_out_message_text_and_only_fields_the_app_writes() -> None:
    excluded = [entry["path"] for entry in variable(COSMOS, "excludedPaths")]
    assert "/text/?" in excluded
    code = "\n".join(p.read_text("utf-8") for p in (ROOT / "shared").rglob("*.py"))
    for path in excluded:
        field = path.strip("/").split("/")[0].strip('"')
        assert field not in QUERIED_FIELDS
        if field != "_etag":
            assert f'"{field}"' in code, f"{field} is excluded but the app never writes it"


def _filters_in_code() -> set[tuple[str, frozenset[str]]]:
    """(container, filtered fields) of every `query_partition` / `count_partition` call in
    `shared/` whose filters are written out (`where={...}`)."""
    found: set[tuple[str, frozenset[str]]] = set()
    for path in (ROOT / "shared").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("query_partition", "count_partition")
                and node.args
                and isinstance(node.args[0], ast.Name)
            ):
                continue
            where = next((k.value for k in node.keywords if k.arg == "where"), None)
            if isinstance(where, ast.Dict):
                keys = {k.value for k in where.keys if isinstance(k, ast.Constant)}
                found.add((node.args[0].id, frozenset(str(k) for k in keys)))
    return found


def test_every_filter_the_app_queries_has_a_composite_index() -> None:
    """Cosmos DB serves `type` + equalities + `ORDER BY id` from a composite index, not a
    scan of the partition (issue 21)."""
    indexes = {"DESK": "deskComposites", "USERS": "userComposites"}
    composites: dict[str, set[frozenset[str]]] = {}
    for container, name in indexes.items():
        for entry in variable(COSMOS, name):
            paths = [p["path"].strip("/") for p in entry]
            assert (paths[0], paths[-1]) == ("type", "id"), paths
            assert {p["order"] for p in entry} == {"ascending"}
            composites.setdefault(container, set()).add(frozenset(paths[1:-1]))
    wanted = _filters_in_code()
    assert len(wanted) > 10  # the scan found the queries
    for container, fields in wanted:
        assert fields in composites[container], (container, sorted(fields))


ROLE_IDS = {
    "storageBlobDataOwner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "monitoringMetricsPublisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "secretsUser": "4633458b-17de-408a-b874-0445c86b69e6",
    "secretsOfficer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "dataContributor": "00000000-0000-0000-0000-000000000002",
}


def test_role_definition_ids() -> None:
    found = {}
    for path in BICEP_FILES:
        for name, entry in parsed(str(path.relative_to(INFRA))).get("variables", {}).items():
            if name in ROLE_IDS:
                found[name] = entry["value"]
    assert found == ROLE_IDS
    sql_role = resource(COSMOS, "appDataContributor")["properties"]
    assert sql_role["roleDefinitionId"].endswith("/sqlRoleDefinitions/${dataContributor}")
    assert sql_role["principalId"] == "appPrincipalId"


def test_application_insights_by_identity_only() -> None:
    components = resource("app/monitoring.bicep", "appInsights")["properties"]
    assert components["DisableLocalAuth"] is True
    settings = _app_settings()
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        "ClientId=${identityClientId};Authorization=AAD"
    )
    assert settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] == "appInsightsConnectionString"
    publisher = resource("app/monitoring.bicep", "publisher")
    assert publisher["scope"] == "appInsights"


def test_authentication_lets_line_and_machines_through_and_the_app_checks_roles() -> None:
    auth = resource(FUNCTION, "auth")
    assert auth["name"] == "authsettingsV2"
    properties = auth["properties"]
    assert properties["platform"]["enabled"] is True
    assert properties["globalValidation"] == {
        "requireAuthentication": False,
        "unauthenticatedClientAction": "AllowAnonymous",
    }
    entra = properties["identityProviders"]["azureActiveDirectory"]
    assert entra["registration"]["clientId"] == "authClientId"
    assert entra["registration"]["clientSecretSettingName"] in _app_settings()
    assert _app_settings()["DESK_REQUIRE_APP_ROLES"] == "true"


def _config_setting_names() -> set[str]:
    """Every setting the app declares (shared/config.py's table)."""
    return {setting.name for setting in SETTINGS}


def _required_by_kind() -> set[str]:
    """Secrets (required outside local development) and the timers' schedules."""
    return {s.name for s in SETTINGS if s.kind in {Kind.SECRET, Kind.SCHEDULE}}


def _schedule_settings() -> set[str]:
    source = "\n".join(p.read_text("utf-8") for p in (ROOT / "shared/entrypoints").glob("*.py"))
    return set(re.findall(r'"%([A-Z][A-Z0-9_]+)%"', source))


# What the app cannot do without in Azure: secrets, the Cosmos account, the published policy,
# the role check behind App Service authentication, and every timer schedule.
REQUIRED_IN_AZURE = {
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "LINE_CHANNEL_SECRET",
    "LINE_CHANNEL_ACCESS_TOKEN",
    "DESK_HASH_KEY",
    "COSMOS_ENDPOINT",
    "COSMOS_DATABASE",
    "DESK_POLICY_URL",
    "DESK_CONTACT",
    "DESK_REQUIRE_APP_ROLES",
    "DESK_ENVIRONMENT",
}

# Settings the platform or SDKs read (not the desk's own Settings).
PLATFORM_SETTINGS = {
    "AzureWebJobsStorage__blobServiceUri",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "AZURE_CLIENT_ID",
    "PYTHON_ENABLE_WORKER_EXTENSIONS",
    "PYTHON_THREADPOOL_THREAD_COUNT",
    "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID",
    "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT",
}


def test_the_host_refuses_a_body_over_2_mb_before_reading_it() -> None:
    """Issue 22, item 13: a 60 MB unsigned body was read whole before the app's 1 MB check."""
    assert _app_settings()["FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"] == str(2 * 1024 * 1024)


def test_the_apps_cosmos_data_role_reaches_the_desk_database_only() -> None:
    """Issue 22, item 12: least privilege, not the whole account."""
    scope = resource(COSMOS, "appDataContributor")["properties"]["scope"]
    assert "/dbs/" in scope
    assert "database.name" in scope


def test_every_setting_the_app_requires_is_provided() -> None:
    declared = _config_setting_names()
    schedules = _schedule_settings()
    assert {"HOUSEKEEPING_SCHEDULE", "PURGE_SCHEDULE", "SESSION_SWEEP_SCHEDULE"} <= schedules
    assert declared >= REQUIRED_IN_AZURE, "a required setting is no longer declared by the app"
    missing = (REQUIRED_IN_AZURE | schedules | _required_by_kind()) - set(_app_settings())
    assert not missing, f"not provided by the Bicep: {sorted(missing)}"


def test_every_bicep_setting_is_one_the_app_or_the_platform_reads() -> None:
    unknown = set(_app_settings()) - _config_setting_names() - _schedule_settings()
    assert unknown <= PLATFORM_SETTINGS, f"unknown settings (typos?): {unknown - PLATFORM_SETTINGS}"


def test_timer_schedules_are_written_in_utc() -> None:
    defaults = parameter_defaults(FUNCTION)
    assert defaults["purgeSchedule"] == "0 0 18 * * *"  # 03:00 in Japan
    for name in ("housekeepingSchedule", "sessionSweepSchedule", "purgeSchedule"):
        assert len(defaults[name].split()) == 6


def test_azure_yaml_names_the_function_service_and_its_tag() -> None:
    text = (ROOT / "azure.yaml").read_text("utf-8")
    assert re.search(
        r"^  api:\n    project: \.\n    language: python\n    host: function", text, re.M
    )
    assert variable(FUNCTION, "serviceTag") == {"'azd-service-name'": "api"}


def test_funcignore_keeps_tools_and_tests_out_of_the_package() -> None:
    lines = set((ROOT / ".funcignore").read_text("utf-8").split())
    assert {".venv/", "__pycache__/", "tests/", "infra/", "ops/", "devtools/", "*_env/"} <= lines


def test_alert_queries_name_log_lines_the_app_writes() -> None:
    rules = {rule["name"]: rule for rule in variable("app/alerts.bicep", "logRules")}
    assert set(rules) == {"webhook-5xx", "event-failed", "purge-missing", "line-quota"}
    code = "\n".join(p.read_text("utf-8") for p in (ROOT / "shared").rglob("*.py"))
    for name in ("event-failed", "line-quota"):
        prefix = re.search(r'startswith "([^"]+)"', rules[name]["query"])
        assert prefix, name
        assert f'"{prefix.group(1)}' in code, f"{name}: nothing logs {prefix.group(1)!r}"
    # The purge's summary line: what the timers module logs for the purge_suspended task.
    summary = "timer " + RunSummary("purge_suspended", "purged", 3, 1, {"grace": 2}).line()
    assert 'log.info("timer %s", summary.line())' in code
    assert 'run_and_report("purge_suspended"' in code
    prefix = re.search(r'startswith "([^"]+)"', rules["purge-missing"]["query"])
    assert prefix
    assert summary.startswith(prefix.group(1))
    assert rules["purge-missing"]["window"] == "PT26H"
    assert rules["purge-missing"]["operator"] == "LessThan"
    assert "/api/line/webhook" in rules["webhook-5xx"]["query"]
    metric = resource("app/alerts.bicep", "cosmosThrottling")["properties"]["criteria"]["allOf"][0]
    assert metric["metricName"] == "TotalRequests"
    assert metric["dimensions"][0]["values"] == ["429"]
