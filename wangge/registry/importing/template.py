"""The downloadable template: the header row a county fills in, and a sheet of instructions in Chinese."""

from __future__ import annotations

import io

from django.conf import settings
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from wangge.core.spreadsheets import text_row
from wangge.registry.importing.columns import COLUMNS
from wangge.registry.models import CARE_TAG_WORDS

DATA_SHEET = "户籍登记"
HELP_SHEET = "填写说明"
# Columns Excel must keep as text: an 18-digit ID typed into a number cell loses its last digits,
# and phone numbers lose a leading 0.
TEXT_COLUMNS = {"head_id", "phone", "leader_phone", "grid"}
TEXT_ROWS = 2000
EXAMPLE = {
    "town": "集里街道",
    "village": "金沙社区",
    "branch": "金沙第一党支部",
    "grid": "1",
    "leader_name": "张建国",
    "leader_phone": "13800001111",
    "address": "金沙路 1 号",
    "head_name": "李春花",
    "head_id": "11010519491231002X",
    "phone": "13900002222",
    "members": "3",
    "tags": "独居老人、低保户",
}
WIDTHS = {"address": 28, "head_id": 22, "branch": 18, "town": 14, "village": 14, "tags": 18}


def template_workbook() -> bytes:
    """An .xlsx with the header row (ID and phone columns formatted as text) and the instructions."""
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for i, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=i, value=col.header)
        cell.font = bold
        if col.required:
            cell.fill = fill
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = WIDTHS.get(col.key, 13)
        if col.key in TEXT_COLUMNS:
            ws.column_dimensions[letter].number_format = "@"
            for r in range(2, TEXT_ROWS + 2):
                ws.cell(row=r, column=i).number_format = "@"
    ws.freeze_panes = "A2"

    help_ws = wb.create_sheet(HELP_SHEET)
    limit = settings.GRID_HARD_MAX
    lines = [
        "微网格户籍登记表填写说明",
        "",
        "1. 在「户籍登记」工作表中每户填写一行，不要改动第一行的列名（黄色为必填列）。",
        "2. 乡镇(街道)和村(社区)必须是系统中已有的名称；党支部(村民小组)和微网格没有的会自动新建。",
        f"3. 每个微网格最多 {limit} 户（建议 10 到 15 户），超出的行会被逐行指出。",
        "4. 户主身份证号一列已设为文本格式：请直接粘贴为文本，不要改成数字或科学计数法，否则后几位会丢失。",
        "5. 同一文件可以重复导入：已登记的户按身份证号（没有时按村+地址+户主）识别，只会更新，不会重复。",
        "6. 关爱标签可填：" + "、".join(CARE_TAG_WORDS) + "；多个标签用顿号、逗号、分号或空格分开。",
        "7. 只要有一行有错，默认整个文件都不会写入；可在上传时勾选“保留正确的行”。",
        "",
    ]
    for line in lines:
        help_ws.append(text_row(help_ws, [line]))
    # One column per line (never the headers side by side), so this sheet is never taken for data.
    help_ws.append(text_row(help_ws, ["列名", "是否必填", "示例", "说明"]))
    for col in COLUMNS:
        help_ws.append(
            text_row(help_ws, [col.header, "必填" if col.required else "选填", EXAMPLE.get(col.key, ""), col.hint])
        )
    help_ws["A1"].font = Font(bold=True, size=14)
    help_ws.column_dimensions["A"].width = 20
    help_ws.column_dimensions["B"].width = 10
    help_ws.column_dimensions["C"].width = 22
    help_ws.column_dimensions["D"].width = 80
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
