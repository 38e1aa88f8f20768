"""The CLI contract other tools rely on, including bad input (on the hashing embedder's index:
``$RAG_MODEL=hashing`` makes the commands use it)."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from rag.cli import main
from rag.embedding import MODEL_ENV

KEYS = {"question", "answer", "answered", "confidence", "short_answer", "citations", "passages"}
CITATION_KEYS = {"n", "source", "title", "section", "start", "end", "quote", "score"}
PASSAGE_KEYS = {"source", "start", "end", "text", "section", "dense_rank", "bm25_rank", "score"}


@pytest.fixture(scope="module")
def run(hash_seed_index, hash_embedder):
    runner = CliRunner(env={MODEL_ENV: hash_embedder.name})

    def invoke(*args, stdin=None):
        return runner.invoke(main, [*args, "--index", str(hash_seed_index)], input=stdin)

    return invoke


def raw_text(path):
    return open(f"seeds/{path}", encoding="utf-8").read()


def test_ask_json_contract(run):
    result = run("ask", "--json", "Which two countries are described as facing North Asia with growing challenges?")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert KEYS <= set(out)
    assert out["answered"] is True and "China and Russia" in out["answer"]
    assert 0.0 <= out["confidence"] <= 1.0
    for c in out["citations"]:
        assert CITATION_KEYS <= set(c)
        assert raw_text(c["source"])[c["start"] : c["end"]] == c["quote"]
        assert f"[{c['n']}]" in out["answer"]
    for p in out["passages"]:
        assert PASSAGE_KEYS <= set(p)
        assert raw_text(p["source"])[p["start"] : p["end"]] == p["text"]


def test_ask_k_limits_passages(run):
    out = json.loads(run("ask", "--json", "-k", "2", "What did Nakatani say?").stdout)
    assert len(out["passages"]) == 2


def test_ask_human_output(run):
    result = run("ask", "How much did Japan pledge to invest in the U.S.?")
    assert result.exit_code == 0
    assert "$1 trillion" in result.stdout
    assert "[1] " in result.stdout and "004_0e83dc79f4f4794c.txt" in result.stdout


def test_batch_keeps_order_and_survives_bad_lines(run):
    lines = [
        json.dumps({"question": "Who is the U.S. defense secretary?"}),
        "{not json",
        json.dumps({"question": "   "}),
        json.dumps(
            {
                "question": "What did he discuss with his Japanese counterpart?",
                "history": ["Who is the U.S. defense secretary?"],
            }
        ),
        json.dumps(["a", "list"]),
        json.dumps({"question": "What is the speed of light?"}),
    ]
    result = run("ask", "--json", "-", stdin="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    outs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(outs) == 6
    assert outs[0]["answered"] and "Hegseth" in outs[0]["answer"]
    assert "invalid JSON on line 2" in outs[1]["error"] and outs[1]["answered"] is False
    assert outs[2]["answered"] is False and "empty" in outs[2]["error"]
    assert outs[3]["answered"] and outs[3]["citations"][0]["source"] == "002_9e7f3e763ff0b01e.txt"
    assert "expected a JSON object" in outs[4]["error"]
    assert outs[5]["answered"] is False and outs[5]["passages"]


def test_empty_question_is_a_clear_error(run):
    result = run("ask", "  ")
    assert result.exit_code != 0 and "question is empty" in result.output
    out = run("ask", "--json", "")
    assert json.loads(out.stdout)["answered"] is False


def test_long_question_is_truncated_with_note(run):
    out = json.loads(run("ask", "--json", "Where is Ishiba planning to travel? " + "x " * 2000).stdout)
    assert any("only the first" in n for n in out["notes"])


def test_info_and_missing_index(run, tmp_path):
    out = json.loads(run("info", "--json").stdout)
    assert out["documents"] == 5 and out["model"] == "hashing" and out["fresh"] is True
    result = CliRunner().invoke(main, ["ask", "hello?", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"Error: no index in '{tmp_path / 'none'}'; build it with `rag index --index {tmp_path / 'none'}`"
    )
    assert "Traceback" not in result.output


@pytest.mark.slow  # --baselines also runs the reader strategy: it loads the shipped reader model
def test_eval_prints_table_with_baselines(run):
    result = run("eval", "--baselines", "eval/dev_unanswerable.jsonl")
    assert result.exit_code == 0, result.output
    assert "baseline: dense top-1 sentence" in result.stdout and "abstention" in result.stdout


def test_module_entry_point_works():
    """(That ``rag info`` imports no heavy library: tests/test_index_scale.py.)"""
    done = subprocess.run([sys.executable, "-m", "rag", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "ask" in done.stdout


def test_index_and_ask_with_the_model_free_embedder(tmp_path):
    """`--model hashing` builds and queries an index without the model; the real model's name
    then gets the one-line "rebuild" error."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("Heavy snow closed schools in Sapporo on Tuesday.", encoding="utf-8")
    index = ["--index", str(tmp_path / "idx")]
    built = CliRunner().invoke(main, ["index", "--source", str(tmp_path / "src"), *index, "--model", "hashing"])
    assert built.exit_code == 0, built.output
    out = json.loads(CliRunner().invoke(main, ["ask", "--json", "Where did snow close schools?", *index,
                                               "--model", "hashing"]).stdout)
    assert out["answered"] and out["citations"][0]["quote"].startswith("Heavy snow closed schools in Sapporo")
    refused = CliRunner().invoke(main, ["ask", "Where did snow close schools?", *index, "--model", "all-MiniLM-L6-v2"])
    assert refused.exit_code == 1 and "built with model 'hashing', not 'all-MiniLM-L6-v2'" in refused.output
