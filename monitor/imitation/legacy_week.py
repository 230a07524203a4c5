"""The legacy calendar's week as the AJAX endpoint answers it
(docs/platforms.md#legacy-booking-the-week-calendar), in the
variants the sites print: header forms, legends (some reusing the free cells' classes),
free cells with or without their step-5 link; and the noise image of a heavy honest page.
"""

from __future__ import annotations

import base64
import random
import struct
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from monitor.imitation.frdates import (
    DAYS,
    FIRST_SLOT,
    LAST_SLOT,
    PARIS,
    SLOT_STEP,
    long_date,
    week_header,
)
from monitor.imitation.wire import h

#: The legend under (or inside) the week, as the sites draw it (``calendar_legend``). It
#: always says "libre" (docs/platforms.md#mistakes-bots-make, 6); some reuse the free cells'
#: own classes for its samples.
LEGENDS = {
    "list": (
        '<div class="legende"><p>Légende</p><ul><li><span class="carre vert"></span>libre</li>'
        '<li><span class="carre gris"></span>réservé</li><li>fermé</li></ul></div>'
    ),
    # A separate table whose samples are cells with the free cells' classes.
    "free_classes": (
        '<table class="legende"><tr><td class="status-1 free">libre</td>'
        '<td class="status-0 busy">réservé</td><td class="status-2 closed">fermé</td></tr>'
        "</table>"
    ),
    # A title, then a bare table whose free sample is a link, as the free cells are.
    "linked": (
        "<p><strong>Légende :</strong></p><table><tr>"
        '<td class="status-1 free"><a href="#">plage libre</a></td>'
        '<td class="status-0 busy">réservé</td></tr></table>'
    ),
}
#: Legends drawn inside the week table, after its body rows.
IN_TABLE_LEGENDS = {
    # A last body row of samples: no word "légende", only the classes and "libre".
    "row": (
        '<tr><td class="status-1 free">libre</td><td class="status-0 busy">réservé</td>'
        '<td class="status-2 closed">fermé</td><td></td><td></td><td></td><td></td></tr>'
    ),
    # A table foot that names itself, its free sample a cell with a time and a link.
    "tfoot": (
        '<tfoot><tr><td>Légende</td><td class="status-1 free"><a href="#">libre</a> 09:00</td>'
        '<td class="status-0 busy">réservé</td><td colspan="4"></td></tr></tfoot>'
    ),
}


def week_table(
    *,
    prefix: str,
    form_id: str,
    monday: datetime,
    slots: Sequence[datetime],
    english: bool = False,
    header: str = "long",
    legend: str = "list",
    links: bool = True,
) -> str:
    """The AJAX calendar fragment: one week, rows of times, free cells linking step 5.

    ``header``: a :data:`frdates.HEADER_STYLES` form (the day columns carry their dates
    only in the long forms, so that the others are read from the header alone);
    ``legend``: a key of :data:`LEGENDS` or :data:`IN_TABLE_LEGENDS`; ``links`` False:
    free cells show "plage libre" and their time, without a link to step 5.
    """
    free = {moment.astimezone(PARIS).replace(second=0, microsecond=0): moment for moment in slots}
    days = [monday + timedelta(days=offset) for offset in range(7)]
    dated = header in ("long", "english") or english
    head = "".join(
        f"<th>{DAYS[d.weekday()][:3]}.{f' {d:%d/%m}' if dated else ''}</th>" for d in days
    )
    rows = []
    moment_of_day = datetime.combine(monday.date(), FIRST_SLOT)
    while moment_of_day.time() <= LAST_SLOT:
        cells = []
        for day in days:
            at = datetime.combine(day.date(), moment_of_day.time(), tzinfo=PARIS)
            if at in free and links:
                link = f"{prefix}/booking/create/{form_id}/5/{int(at.timestamp())}"
                cells.append(
                    f'<td class="status-1 free"><a href="{h(link)}" title="{h(long_date(at))}">'
                    f"plage libre</a> {at:%H:%M}</td>"
                )
            elif at in free:
                cells.append(f'<td class="status-1 free">plage libre {at:%Hh%M}</td>')
            elif day.weekday() >= 5:
                cells.append('<td class="status-2 closed">fermé</td>')
            else:
                cells.append(f'<td class="status-0 busy">{at:%H:%M}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
        moment_of_day += SLOT_STEP
    title = week_header(monday.date(), english=english, style=header)
    inside = IN_TABLE_LEGENDS.get(legend, "")
    foot, body_legend = (inside, "") if inside.startswith("<tfoot") else ("", inside)
    return (
        '<table class="calendrier">\n<thead>\n'
        f'<tr><th colspan="7">{h(title)}</th></tr>\n<tr>{head}</tr>\n</thead>\n<tbody>\n'
        + "\n".join(rows)
        + f"\n{body_legend}</tbody>{foot}\n</table>\n"
        + LEGENDS.get(legend, "" if inside else LEGENDS["list"])
    )


def noise_png(kib: int, seed: int = 25) -> str:
    """A valid PNG of about ``kib`` KiB of noise (it does not compress), in base64."""
    side = max(1, int((kib * 1024) ** 0.5))
    noise = random.Random(seed).randbytes(side * side)
    rows = b"".join(b"\x00" + noise[y * side : (y + 1) * side] for y in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    image = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
    return base64.b64encode(image + chunk(b"IEND", b"")).decode()
