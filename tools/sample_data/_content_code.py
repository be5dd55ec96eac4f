'''Hand-written coding rows whose responses contain fenced code blocks.

Every ```python block here is executed by make_sample_data.py --check, so the code shown works.
Rows are (category, instruction, context, response).
'''

F = "```"

CODE = [
    ("open_qa", "How do I reverse a string in Python?", "",
     f"Use slicing with a step of -1:\n\n{F}python\ntext = \"dataforge\"\nprint(text[::-1])  # egrofatad\n{F}\n\n"
     "The slice walks the string from the end to the start and returns a new string; strings are immutable, "
     "so the original is unchanged."),
    ("open_qa", "How do I read a file line by line in Python without loading it all into memory?", "",
     f"Iterate over the file object; it yields one line at a time:\n\n{F}python\nimport tempfile, os\n\n"
     f"path = os.path.join(tempfile.mkdtemp(), \"notes.txt\")\nwith open(path, \"w\", encoding=\"utf-8\") as fh:\n"
     f"    fh.write(\"first\\nsecond\\n\")\n\nwith open(path, encoding=\"utf-8\") as fh:\n    for line in fh:\n"
     f"        print(line.rstrip(\"\\n\"))\n{F}\n\n"
     "The `with` block closes the file even if an error occurs."),
    ("open_qa", "How can I count how often each word appears in a list in Python?", "",
     f"`collections.Counter` does exactly that:\n\n{F}python\nfrom collections import Counter\n\n"
     f"words = [\"apple\", \"pear\", \"apple\", \"fig\", \"apple\", \"pear\"]\ncounts = Counter(words)\n"
     f"print(counts.most_common(2))  # [('apple', 3), ('pear', 2)]\n{F}"),
    ("open_qa", "How do I remove duplicates from a list in Python while keeping the original order?", "",
     f"Since Python 3.7, dictionaries keep insertion order, so `dict.fromkeys` works:\n\n{F}python\n"
     f"items = [3, 1, 3, 2, 1]\nunique = list(dict.fromkeys(items))\nassert unique == [3, 1, 2]\n{F}\n\n"
     "Using `set(items)` would also remove duplicates, but it does not keep the order."),
    ("open_qa", "How do I sort a list of dictionaries by a key in Python?", "",
     f"Pass a `key` function to `sorted`:\n\n{F}python\npeople = [{{\"name\": \"Ana\", \"age\": 31}}, "
     f"{{\"name\": \"Bo\", \"age\": 25}}]\nby_age = sorted(people, key=lambda p: p[\"age\"])\n"
     f"assert [p[\"name\"] for p in by_age] == [\"Bo\", \"Ana\"]\n{F}\n\n"
     "Add `reverse=True` to sort from oldest to youngest, or use `operator.itemgetter(\"age\")` instead of the "
     "lambda."),
    ("open_qa", "What is a list comprehension in Python? Give an example.", "",
     "A list comprehension builds a new list from an iterable in a single expression, optionally filtering "
     f"items:\n\n{F}python\nsquares_of_evens = [n * n for n in range(10) if n % 2 == 0]\n"
     f"assert squares_of_evens == [0, 4, 16, 36, 64]\n{F}\n\n"
     "It is equivalent to a `for` loop that appends to a list, but shorter and usually faster."),
    ("open_qa", "How do I write a Python function with a default argument that is a list?", "",
     "Do not use a mutable object such as `[]` as the default: it is created once, when the function is "
     f"defined, and shared by every call. Use `None` instead:\n\n{F}python\ndef add_item(item, bucket=None):\n"
     f"    if bucket is None:\n        bucket = []\n    bucket.append(item)\n    return bucket\n\n"
     f"assert add_item(1) == [1]\nassert add_item(2) == [2]  # a fresh list each time\n{F}"),
    ("open_qa", "How do I parse a JSON string in Python?", "",
     f"Use `json.loads` for a string and `json.load` for a file object:\n\n{F}python\nimport json\n\n"
     f"data = json.loads('{{\"name\": \"Ada\", \"languages\": [\"en\", \"fr\"]}}')\n"
     f"assert data[\"languages\"][1] == \"fr\"\nprint(json.dumps(data, indent=2))\n{F}\n\n"
     "`json.dumps` goes the other way and turns Python objects back into a JSON string."),
    ("open_qa", "How do I measure how long a piece of Python code takes to run?", "",
     f"For a quick measurement, use `time.perf_counter`:\n\n{F}python\nimport time\n\nstart = time.perf_counter()\n"
     f"total = sum(range(1_000_000))\nelapsed = time.perf_counter() - start\nprint(f\"took {{elapsed:.4f}} s\")\n{F}\n\n"
     "For small snippets, the `timeit` module is more reliable because it runs the code many times."),
    ("open_qa", "How can I merge two dictionaries in Python?", "",
     f"Since Python 3.9 you can use the `|` operator; values from the right-hand dictionary win:\n\n{F}python\n"
     f"defaults = {{\"color\": \"blue\", \"size\": \"M\"}}\nchoice = {{\"size\": \"L\"}}\nmerged = defaults | choice\n"
     f"assert merged == {{\"color\": \"blue\", \"size\": \"L\"}}\n{F}\n\n"
     "On older versions, `{**defaults, **choice}` gives the same result."),
    ("open_qa", "Write a Python function that checks whether a string is a palindrome, ignoring case and "
     "spaces.", "",
     f"{F}python\ndef is_palindrome(text: str) -> bool:\n    cleaned = \"\".join(ch.lower() for ch in text if "
     f"ch.isalnum())\n    return cleaned == cleaned[::-1]\n\nassert is_palindrome(\"Never odd or even\")\n"
     f"assert not is_palindrome(\"dataforge\")\n{F}\n\n"
     "The function keeps only letters and digits, lower-cases them, and compares the result with its reverse."),
    ("open_qa", "Write a Python function that returns the n-th Fibonacci number.", "",
     f"An iterative version runs in linear time and does not hit the recursion limit:\n\n{F}python\n"
     f"def fibonacci(n: int) -> int:\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
     f"    return a\n\nassert [fibonacci(i) for i in range(8)] == [0, 1, 1, 2, 3, 5, 8, 13]\n{F}"),
    ("open_qa", "How do I create a virtual environment for a Python project?", "",
     f"Use the built-in `venv` module:\n\n{F}bash\npython3 -m venv .venv\nsource .venv/bin/activate   # on Windows: "
     f".venv\\Scripts\\activate\npip install requests\n{F}\n\n"
     "Packages installed while the environment is active go into `.venv` instead of the system Python. Run "
     "`deactivate` to leave it."),
    ("open_qa", "How do I find all lines containing the word 'error' in a log file on Linux?", "",
     f"Use `grep`:\n\n{F}bash\ngrep -n 'error' app.log        # with line numbers\ngrep -in 'error' app.log       "
     f"# case-insensitive\ngrep -c 'error' app.log        # only count matching lines\n{F}"),
    ("open_qa", "Write an SQL query that returns the five customers with the highest total order amount.",
     "Tables: customers(id, name), orders(id, customer_id, amount)",
     f"{F}sql\nSELECT c.name, SUM(o.amount) AS total\nFROM customers AS c\nJOIN orders AS o ON o.customer_id = "
     f"c.id\nGROUP BY c.id, c.name\nORDER BY total DESC\nLIMIT 5;\n{F}\n\n"
     "The join links each order to its customer, `GROUP BY` adds up the amounts per customer, and "
     "`ORDER BY ... DESC LIMIT 5` keeps the top five."),
    ("closed_qa", "What does this Python code print?",
     "x = [1, 2, 3]\ny = x\ny.append(4)\nprint(len(x))",
     f"It prints `4`. The assignment `y = x` does not copy the list; both names refer to the same list, so "
     f"appending through `y` also changes `x`:\n\n{F}python\nx = [1, 2, 3]\ny = x\ny.append(4)\nassert len(x) == 4\n{F}"),
    ("closed_qa", "Find the bug in this function and fix it.",
     "def average(numbers):\n    return sum(numbers) / len(numbers) - 1",
     f"Operator precedence: the division happens before the subtraction, so the function subtracts 1 from the "
     f"average. There is no reason to subtract anything. A fixed version that also handles an empty list:\n\n"
     f"{F}python\ndef average(numbers):\n    if not numbers:\n        raise ValueError(\"average() of an empty "
     f"list\")\n    return sum(numbers) / len(numbers)\n\nassert average([2, 4, 6]) == 4\n{F}"),
    ("closed_qa", "Explain what this regular expression matches.", r"^\d{4}-\d{2}-\d{2}$",
     f"It matches a whole string made of four digits, a hyphen, two digits, a hyphen and two digits, such as "
     f"a date in the form `2024-05-17`. `^` and `$` anchor the match at the start and end, and `\\d{{n}}` means "
     f"exactly n digits. It checks only the format, not whether the date exists:\n\n{F}python\nimport re\n\n"
     f"pattern = re.compile(r\"^\\d{{4}}-\\d{{2}}-\\d{{2}}$\")\nassert pattern.match(\"2024-05-17\")\n"
     f"assert pattern.match(\"2024-13-45\")  # accepted: format only\nassert not pattern.match(\"17/05/2024\")\n{F}"),
    ("open_qa", "How do I handle a missing key in a Python dictionary without raising an error?", "",
     f"Use `dict.get`, which returns a default instead of raising `KeyError`:\n\n{F}python\nconfig = {{\"host\": "
     f"\"localhost\"}}\nport = config.get(\"port\", 8080)\nassert port == 8080\n{F}\n\n"
     "For counting or grouping, `collections.defaultdict` creates missing entries automatically."),
    ("open_qa", "What is the difference between `==` and `is` in Python?", "",
     "`==` compares values: it asks whether two objects are equal. `is` compares identity: it asks whether "
     f"two names refer to the very same object.\n\n{F}python\na = [1, 2]\nb = [1, 2]\nassert a == b\n"
     f"assert a is not b\nassert a is a\n{F}\n\n"
     "Use `is` only for singletons such as `None` (`if value is None:`)."),
    ("open_qa", "How do I split a list into chunks of a fixed size in Python?", "",
     f"Slice it in steps of the chunk size:\n\n{F}python\ndef chunks(items, size):\n    return [items[i:i + size] "
     f"for i in range(0, len(items), size)]\n\nassert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]\n{F}\n\n"
     "On Python 3.12 and newer, `itertools.batched(items, size)` does the same lazily and yields tuples."),
    ("open_qa", "How do I write a CSV file with a header row in Python?", "",
     f"Use `csv.DictWriter`:\n\n{F}python\nimport csv, io\n\nrows = [{{\"name\": \"Ana\", \"score\": 9}}, {{\"name\": "
     f"\"Bo\", \"score\": 7}}]\nbuf = io.StringIO()\nwriter = csv.DictWriter(buf, fieldnames=[\"name\", \"score\"])\n"
     f"writer.writeheader()\nwriter.writerows(rows)\nassert buf.getvalue().splitlines()[0] == \"name,score\"\n{F}\n\n"
     "When writing to a real file, open it with `newline=\"\"` so the csv module controls line endings."),
    ("open_qa", "How do I undo the last Git commit but keep the changes in my working directory?", "",
     f"{F}bash\ngit reset --soft HEAD~1\n{F}\n\n"
     "`--soft` moves the branch back one commit and leaves the changes staged. Use `--mixed` (the default) to "
     "leave them unstaged instead. If the commit has already been pushed and shared, prefer `git revert`, "
     "which adds a new commit that undoes it."),
]
