"""The notebook collection: rendering from templates (:mod:`.render`), what notebooks display
(:mod:`.display`), the helpers they call (:mod:`.reports`) and the papermill batch runner
(:mod:`.runner`). Notebooks use ``from cicy4lib import notebooks as nb`` and call ``nb.<helper>``.
"""
from .render import *  # noqa: F401,F403
from .render import __all__ as _render_all
from .display import *  # noqa: F401,F403
from .display import __all__ as _display_all
from .reports import *  # noqa: F401,F403
from .reports import __all__ as _reports_all
from .runner import *  # noqa: F401,F403
from .runner import __all__ as _runner_all

__all__ = [*_render_all, *_display_all, *_reports_all, *_runner_all]
