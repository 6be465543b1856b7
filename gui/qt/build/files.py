"""The Build page's files: save and open recipes (`saveRecipe`, `openRecipe`), export the context
(`exportContext`) to a folder where `docker build` works as it does here."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QPushButton

from gui.builder import Recipe, RecipeError, ValidationError, export_context, load_recipe, save_recipe
from gui.qt.common.feedback import confirm, show_error
from gui.qt.common.tasks import report_bug, run


class RecipeActions(QObject):
    """`done(str)` reports what happened ("Saved recipe to …"); failures open an error box."""

    done = Signal(str)

    def __init__(self, page):
        super().__init__(page)
        self.page = page
        self.open_button = self._button("Open recipe…", "openRecipe", self._on_open,
                                        "Open a build recipe (template, form values, hand edits)")
        self.save_button = self._button("Save recipe…", "saveRecipe", self._on_save,
                                        "Save the template, the form and any hand edits as a TOML recipe")
        self.export_button = self._button("Export…", "exportContext", self._on_export,
                                          "Write the Dockerfile and its build context to a folder for "
                                          "`docker build` (CI)")
        self.buttons = (self.open_button, self.save_button, self.export_button)
        self.dialog: QFileDialog | None = None
        self.done.connect(lambda text: self.page._set_status(text, ""))

    def _button(self, text: str, name: str, slot, tip: str) -> QPushButton:
        b = QPushButton(text, self.page)
        b.setObjectName(name)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    def update_enabled(self, form_valid: bool) -> None:
        self.export_button.setEnabled(form_valid)
        self.export_button.setToolTip(
            "Write the Dockerfile and its build context to a folder for `docker build` (CI)" if form_valid
            else "Fix the fields marked in red first"
        )

    def _file_dialog(self, name: str, title: str, save: bool = False, folder: bool = False) -> QFileDialog:
        dlg = QFileDialog(self.page, title)
        dlg.setObjectName(name)
        dlg.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        if folder:
            dlg.setFileMode(QFileDialog.FileMode.Directory)
            dlg.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            dlg.setNameFilters(["Build recipes (*.toml)", "All files (*)"])
            if save:
                dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
                dlg.setDefaultSuffix("toml")
                dlg.selectFile(f"{self.page.template.name}.recipe.toml")
            else:
                dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
        dlg.finished.connect(dlg.deleteLater)
        self.dialog = dlg
        return dlg

    # -- recipes ------------------------------------------------------------------------
    def _on_save(self) -> None:
        dlg = self._file_dialog("recipeSaveDialog", "Save build recipe", save=True)
        dlg.fileSelected.connect(self.save_recipe_to)
        dlg.open()

    def recipe(self) -> Recipe:
        page = self.page
        t = page.template
        build, _ = t.check_build(page.form.build_values())
        run, _ = t.check_run(page.form.run_values())
        return Recipe(t.name, build, run, page.preview.hand_text)

    def save_recipe_to(self, path: str) -> bool:
        try:
            save_recipe(path, self.recipe(), self.page.template)
        except (RecipeError, OSError) as exc:
            show_error(self.page, "Cannot save the recipe", str(exc))
            return False
        self.done.emit(f"Saved the recipe to {path}")
        return True

    def _on_open(self) -> None:
        dlg = self._file_dialog("recipeOpenDialog", "Open build recipe")
        dlg.fileSelected.connect(self.open_recipe_from)
        dlg.open()

    def open_recipe_from(self, path: str) -> bool:
        """Load a recipe; asks first when that would drop the user's hand-edited Dockerfile."""
        try:
            recipe = load_recipe(path)
        except RecipeError as exc:
            show_error(self.page, "Cannot open the recipe", str(exc))
            return False
        preview = self.page.preview
        if preview.is_hand_edited and recipe.dockerfile != preview.hand_text:
            confirm(self.page, "Open recipe", "Replace your hand-edited Dockerfile?",
                    "Open recipe", lambda _checked: self._apply(recipe, path),
                    informative="The recipe brings its own form values"
                                + (" and Dockerfile." if recipe.dockerfile else "; your edits are dropped."))
            return False
        self._apply(recipe, path)
        return True

    def _apply(self, recipe: Recipe, path: str) -> None:
        page = self.page
        page.preview.discard_edits()
        page.set_template(recipe.template)
        page.form.set_values(recipe.build, recipe.run)
        if recipe.dockerfile is not None:
            page.preview.set_hand_text(recipe.dockerfile)
        self.done.emit(f"Opened the recipe {path}")

    # -- export -------------------------------------------------------------------------
    def _on_export(self) -> None:
        dlg = self._file_dialog("exportDialog", "Export the build context to a folder", folder=True)
        dlg.fileSelected.connect(self.export_to)
        dlg.open()

    def export_to(self, folder: str, overwrite: bool = False) -> None:
        """Write the context (off the UI thread); asks before writing into a folder that is not empty."""
        page = self.page
        template, values, dockerfile = page.template, page.form.build_values(), page.preview.dockerfile()

        def exported(ctx) -> None:
            self.done.emit(f"Exported {len(ctx.files)} files to {Path(folder)}: "
                           f"run `docker build -t {values.get('tag') or 'IMAGE'} {folder}` there")

        def failed(exc: BaseException) -> None:
            if isinstance(exc, FileExistsError):
                confirm(page, "Export", f"{folder} is not empty.", "Export into it",
                        lambda _c: self.export_to(folder, overwrite=True),
                        informative="Files of the same name are replaced; other files stay.")
            elif isinstance(exc, (ValidationError, OSError)):
                show_error(page, "Cannot export", str(exc))
            else:
                report_bug(exc)

        run(page, lambda: export_context(template, values, folder, dockerfile, overwrite), exported, failed)
