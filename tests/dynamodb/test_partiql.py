"""PartiQL through boto3: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def test_statements(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table(range_type="N")
    ddb.execute_statement(
        Statement=f"INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'sk': 1, 'tags': <<'x', 'y'>>, 'm': {{'k': [1, 'two']}}}}"
    )
    ddb.execute_statement(Statement=f"INSERT INTO \"{t}\" VALUE {{'pk': ?, 'sk': ?, 'n': 5}}",
                          Parameters=[{"S": "a"}, {"N": "2"}])  # fmt: skip
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f"INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'sk': 1}}")
    assert e.value.response["Error"]["Code"] == "DuplicateItemException"
    out = ddb.execute_statement(Statement=f"SELECT * FROM \"{t}\" WHERE pk = 'a' AND sk >= 1")
    assert [i["sk"]["N"] for i in out["Items"]] == ["1", "2"]
    assert out["Items"][0]["tags"] == {"SS": ["x", "y"]}
    assert out["Items"][0]["m"] == {"M": {"k": {"L": [{"N": "1"}, {"S": "two"}]}}}
    out = ddb.execute_statement(Statement=f'SELECT n, pk FROM "{t}" WHERE n > 1')
    assert out["Items"] == [{"n": {"N": "5"}, "pk": {"S": "a"}}]
    out = ddb.execute_statement(
        Statement=f"UPDATE \"{t}\" SET n = n + 1 SET z = 'new' WHERE pk = 'a' AND sk = 2 RETURNING ALL NEW *"
    )
    assert out["Items"][0]["n"] == {"N": "6"} and out["Items"][0]["z"] == {"S": "new"}
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f"UPDATE \"{t}\" SET n = 1 WHERE pk = 'a' AND sk = 9")
    assert e.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f"UPDATE \"{t}\" SET n = 1 WHERE pk = 'a'")
    assert e.value.response["Error"]["Message"] == (
        "Where clause does not contain a mandatory equality on all key attributes")  # fmt: skip
    ddb.execute_statement(Statement=f"DELETE FROM \"{t}\" WHERE pk = 'a' AND sk = 1")
    out = ddb.execute_statement(Statement=f'SELECT * FROM "{t}"', Limit=10)
    assert len(out["Items"]) == 1


def test_pagination_with_next_token(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table(range_type="N")
    for i in range(7):
        ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"N": str(i)}})
    seen: list[str] = []
    kwargs: dict[str, Any] = {"Statement": f"SELECT sk FROM \"{t}\" WHERE pk = 'p'", "Limit": 3}
    while True:
        out = ddb.execute_statement(**kwargs)
        seen.extend(i["sk"]["N"] for i in out["Items"])
        if "NextToken" not in out:
            break
        kwargs["NextToken"] = out["NextToken"]
    assert seen == [str(i) for i in range(7)]


def test_batch_and_transaction(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table(range_type=None)
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'k{i}'}}"} for i in range(3)])  # fmt: skip
    assert all("Error" not in r for r in out["Responses"])
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": f"SELECT * FROM \"{t}\" WHERE pk = ?", "Parameters": [{"S": k}]}
        for k in ("k0", "nope")])  # fmt: skip
    assert out["Responses"][0]["Item"] == {"pk": {"S": "k0"}} and "Item" not in out["Responses"][1]
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'k0'}}"}])  # fmt: skip
    assert out["Responses"][0]["Error"]["Code"] == "DuplicateItem"
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'k9'}}"},
            {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'k1'}}"}])  # fmt: skip
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["None", "DuplicateItem"]
    assert "Item" not in ddb.get_item(TableName=t, Key={"pk": {"S": "k9"}})
    ddb.execute_transaction(TransactStatements=[
        {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'k9'}}"},
        {"Statement": f"DELETE FROM \"{t}\" WHERE pk = 'k1'"}])  # fmt: skip
    assert ddb.scan(TableName=t, Select="COUNT")["Count"] == 3


def test_syntax_error(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f'SELEC * FROM "{t}"')
    assert e.value.response["Error"]["Code"] == "ValidationException"
