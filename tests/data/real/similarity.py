#!/usr/bin/env python3
"""How close restorations come to the English originals: word-sequence similarity
(difflib ratio over lower-cased words and punctuation) of each pair's `en.txt` with
(a) the literal draft and (b) the restoration kept in its `restored.json`, and (c) with
`OUT/NN.en.txt` when an output folder of a new run is given (inputs named by the pair's
number: `01.de.txt` → `01.en.txt`).

usage: similarity.py [OUT]"""
import difflib, json, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else None


def words(text):
    return re.findall(r"\w+|[^\w\s]", text.lower())


def sim(a, b):
    return difflib.SequenceMatcher(None, words(a), words(b), autojunk=False).ratio()


rows = []
for pair in sorted(os.listdir(HERE)):
    folder = os.path.join(HERE, pair)
    if not os.path.isdir(folder):
        continue
    number = pair.split("-")[0]
    new = os.path.join(OUT, number + ".en.txt") if OUT else None
    if OUT and not os.path.exists(new):
        continue
    en = open(os.path.join(folder, "en.txt"), encoding="utf-8").read()
    kept = json.load(open(os.path.join(folder, "restored.json"), encoding="utf-8"))
    old = "\n\n".join(s["final_text"] for s in kept["segments"])
    literal = "\n\n".join(s.get("draft") or "" for s in kept["segments"])
    row = [pair, sim(literal, en), sim(old, en)]
    if new:
        row.append(sim(open(new, encoding="utf-8").read(), en))
    rows.append(row)
    print("%-40s literal %.3f  kept %.3f%s" % (row[0], row[1], row[2], "  new %.3f" % row[3] if new else ""))
if rows:
    means = [sum(r[i] for r in rows) / len(rows) for i in range(1, len(rows[0]))]
    print("%-40s literal %.3f  kept %.3f%s" % ("mean", means[0], means[1], "  new %.3f" % means[2] if OUT else ""))
