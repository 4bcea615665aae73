"""Reading Moodle XML (https://docs.moodle.org/en/Moodle_XML_format) into a Bank. The file is parsed with
defusedxml: a question bank comes from elsewhere, and a plain XML parser would expand entities (billion laughs)
or fetch external ones (XXE); defusedxml refuses any DTD, entity declaration or external reference. Each
question is pointed to by its index in the file, its type and name. Pure."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # only its types and ParseError; parsing goes through defusedxml

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from lms.quizzes.importing.model import SUPPORTED, Answer, Bank, BankError, Item, Skipped
from lms.quizzes.importing.text import to_plain

_WHY = {
    "essay": "essays are graded by hand",
    "matching": "matching is not a type of ours",
    "multianswer": "embedded answers (Cloze) are not a type of ours",
    "description": "a description is not a question",
    "randomsamatch": "random short-answer matching is not a type of ours",
    "random": "a random question is drawn from a category at quiz time; import the category's questions",
}


def _text_of(element: ET.Element | None, item: Item, default_format: str = "html") -> str:
    """The <text> of an element with a format attribute (questiontext, feedback, answer ...), as our text."""
    if element is None:
        return ""
    inner = element.find("text")
    raw = inner.text if inner is not None else element.text
    plain, notes = to_plain(raw or "", element.get("format", default_format))
    item.notes.extend(notes)
    if element.find("file") is not None:
        item.notes.append("files embedded in the question are not imported")
    return plain


def _number(element: ET.Element | None, default: float | None = None) -> float | None:
    if element is None or element.text is None or not element.text.strip():
        return default
    return float(element.text.strip())


def _flag(element: ET.Element | None) -> bool:
    return element is not None and (element.text or "").strip().lower() in ("1", "true")


class XmlReader:
    def __init__(self) -> None:
        self.bank = Bank()
        self.problems: list[tuple[str, str]] = []
        self.category: str | None = None

    def read(self, data: bytes) -> Bank:
        try:
            root = SafeET.fromstring(data, forbid_dtd=True)
        except DefusedXmlException as error:
            raise BankError([("the file", f"refused: it declares a DTD or entities ({error})")]) from error
        except ET.ParseError as error:
            line, column = error.position
            raise BankError([(f"line {line}", f"not well-formed XML at column {column + 1}")]) from error
        if root.tag != "quiz":
            raise BankError([("line 1", f"a Moodle XML file has <quiz> at its root, not <{root.tag}>")])
        for index, element in enumerate(root.iter("question"), start=1):
            self._question(index, element)
        if self.problems:
            raise BankError(self.problems)
        return self.bank

    def _question(self, index: int, element: ET.Element) -> None:
        kind = element.get("type", "")
        name_element = element.find("name")
        probe = Item(kind=kind, where="", name="", prompt="")
        name = _text_of(name_element, probe, "plain") if name_element is not None else ""
        where = f"question {index}"  # the index of its <question> element in the file, categories included
        if kind == "category":
            category = element.find("category")
            self.category = _text_of(category, probe, "plain") or None
            return
        if kind not in SUPPORTED:
            reason = _WHY.get(kind, f"type {kind!r} is not a type of ours")
            self.bank.skipped.append(Skipped(where, kind or "(no type)", name, reason))
            return
        item = Item(kind=kind, where=where, name=name, prompt="", category=self.category)
        try:
            item.prompt = _text_of(element.find("questiontext"), item)
            item.feedback = _text_of(element.find("generalfeedback"), item)
            item.points = _number(element.find("defaultgrade"))
            answers = element.findall("answer")
            for answer in answers:
                fraction = float(answer.get("fraction", "0"))
                if not -100 <= fraction <= 100:
                    raise ValueError(f"answer fraction {fraction} is not between -100 and 100")
                text_format = answer.get("format", "plain_text" if kind != "multichoice" else "html")
                text, notes = to_plain(answer.findtext("text") or "", text_format)
                item.notes.extend(notes)
                item.answers.append(
                    Answer(text, fraction, _text_of(answer.find("feedback"), item),
                           _number(answer.find("tolerance"), 0.0) or 0.0)
                )  # fmt: skip
        except ValueError as error:
            self.problems.append((where, f"not a number where one belongs: {error}"))
            return
        if kind == "multichoice":  # Moodle reads a missing <single> as true
            single = element.find("single")
            item.single = single is None or _flag(single)
        elif kind == "truefalse":
            self._true_false(item)
        elif kind == "shortanswer":
            item.case_sensitive = _flag(element.find("usecase"))
        elif kind == "numerical":
            self._numerical(item, element, where)
        if not item.answers and kind != "truefalse":
            self.problems.append((where, "the question has no <answer>"))
            return
        self.bank.items.append(item)

    def _true_false(self, item: Item) -> None:
        by_text = {answer.text.strip().lower(): answer for answer in item.answers}
        true, false = by_text.get("true"), by_text.get("false")
        if true is None or false is None:
            self.problems.append((item.where, "a true/false question needs the answers true and false"))
            return
        item.truth = true.fraction >= false.fraction
        item.true_feedback, item.false_feedback = true.feedback, false.feedback
        item.answers = []

    def _numerical(self, item: Item, element: ET.Element, where: str) -> None:
        for unit in element.iter("unit"):
            try:
                multiplier = _number(unit.find("multiplier"), 1.0) or 1.0
            except ValueError:
                self.problems.append((where, "a unit's multiplier is not a number"))
                return
            item.units.append(((unit.findtext("unit_name") or "").strip(), multiplier))
        for answer in item.answers:
            if answer.text.strip() == "*":
                continue
            try:
                answer.text = repr(float(answer.text))
            except ValueError:
                self.problems.append((where, f"numerical answer {answer.text!r} is not a number"))


def read_moodle_xml(data: bytes) -> Bank:
    """The bank in a Moodle XML file; BankError with the element of every malformed question."""
    return XmlReader().read(data)
