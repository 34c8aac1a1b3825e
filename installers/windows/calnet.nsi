; Calnet's Windows installer, calnet-<version>-setup.exe (NSIS 3). scripts/windows-installers.sh
; builds it; it is not meant to be run by hand, as it needs these defines:
;   VERSION   the project version (0.1.0)
;   STAGING   the deployed program folder: calnet.exe, calnetd.exe, calnetctl.exe, the Qt and
;             runtime DLLs, plugins/ subfolders and translations/
;   FILELIST  a generated include with one Delete per staged file and one RMDir per folder, so
;             the uninstaller removes what was installed and nothing else
;   OUTFILE   where the installer goes
;
; Per machine, 64-bit only, into "C:\Program Files\Calnet". The helper service ("Calnet") is
; registered and started by calnetd.exe itself (--install-service), so the installer and the
; MSI (calnet.wxs) can never disagree with calnetd about the service's command line or its
; recovery actions; the uninstaller calls --uninstall-service, which stops the service (calnetd
; restores routes and DNS when it stops) and deletes it.
;
; Silent: setup.exe /S; uninstall: "C:\Program Files\Calnet\Uninstall.exe" /S.

Unicode true
; A 64-bit installer: the program is 64-bit only, and a 64-bit installer sees the real
; Program Files and registry without WOW64 redirection (Wine's wine64 also runs no 32-bit code).
Target amd64-unicode
SetCompressor /SOLID lzma
ManifestDPIAware true

!macro RequireDefine NAME
  !ifndef ${NAME}
    !error "-D${NAME}= is missing (scripts/windows-installers.sh passes it)"
  !endif
!macroend
!insertmacro RequireDefine VERSION
!insertmacro RequireDefine STAGING
!insertmacro RequireDefine FILELIST
!insertmacro RequireDefine OUTFILE

!include LogicLib.nsh
!include x64.nsh
!include MUI2.nsh

!define PRODUCT "Calnet"
!define PUBLISHER "Calnet"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Calnet"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\Calnet"
RequestExecutionLevel admin
ShowInstDetails show
ShowUninstDetails show
BrandingText "${PRODUCT} ${VERSION}"

; The file's version resource: VIProductVersion wants four numbers.
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "FileDescription" "${PRODUCT} ${VERSION} setup"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "${PUBLISHER}"

!define MUI_ABORTWARNING
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
; No "run Calnet now" on the finish page: it would start the tray app elevated, as the
; installer runs. It starts at the next login (the Run value below) or from the Start menu.
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "German"
!insertmacro MUI_LANGUAGE "French"

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "${PRODUCT} needs 64-bit Windows." /SD IDOK
    Abort
  ${EndIf}
  SetRegView 64
  ; Shortcuts for every user (the Start menu of "All Users").
  SetShellVarContext all
  ; An earlier install elsewhere (setup.exe /D=...) is upgraded in place.
  ReadRegStr $0 HKLM "${UNINSTALL_KEY}" "InstallLocation"
  ${If} $0 != ""
    StrCpy $INSTDIR $0
  ${EndIf}
FunctionEnd

Function un.onInit
  SetRegView 64
  SetShellVarContext all
FunctionEnd

; calnetd.exe ARGUMENT, its output in the details log and its exit code in $0. nsExec: no
; console window flashes up.
!macro CalnetdRun ARGUMENT
  DetailPrint '"$INSTDIR\calnetd.exe" ${ARGUMENT}'
  nsExec::ExecToLog '"$INSTDIR\calnetd.exe" ${ARGUMENT}'
  Pop $0
!macroend

Section "Calnet" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; An upgrade: the running helper holds calnetd.exe open, and a new calnetd registers the
  ; service afresh. The old calnetd stops and deletes its own service (and restores the
  ; network); should it fail, sc.exe still stops the service so that its files can be replaced.
  ${If} ${FileExists} "$INSTDIR\calnetd.exe"
    !insertmacro CalnetdRun "--uninstall-service"
    ${If} $0 != 0
      DetailPrint "the old calnetd.exe could not remove its service (exit code $0): stopping it with sc.exe"
      nsExec::ExecToLog '"$SYSDIR\sc.exe" stop Calnet'
      Pop $0
    ${EndIf}
  ${EndIf}

  File /r "${STAGING}\*.*"
  WriteUninstaller "$INSTDIR\Uninstall.exe"

  ; Add/Remove Programs.
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" '"$INSTDIR\calnet.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\Uninstall.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\Uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1

  ; The tray app at every user's login. --autostart is the flag the app's own "start at login"
  ; setting writes (under HKCU, same value name); a second start only reaches the first one
  ; (the app is single-instance per session).
  WriteRegStr HKLM "${RUN_KEY}" "Calnet" '"$INSTDIR\calnet.exe" --autostart'
  CreateShortcut "$SMPROGRAMS\Calnet.lnk" "$INSTDIR\calnet.exe"

  ; Last, once every file is in place: the service, registered and started.
  !insertmacro CalnetdRun "--install-service"
  ${If} $0 != 0
    MessageBox MB_ICONSTOP "The Calnet service could not be installed (calnetd.exe --install-service: exit code $0)." /SD IDOK
    SetErrorLevel 3
    Abort
  ${EndIf}
SectionEnd

Section "Uninstall"
  ; First the service: it must release the network (routes, DNS) and its files.
  ${If} ${FileExists} "$INSTDIR\calnetd.exe"
    !insertmacro CalnetdRun "--uninstall-service"
    ${If} $0 != 0
      DetailPrint "calnetd.exe could not remove its service (exit code $0): sc.exe stops and deletes it"
      nsExec::ExecToLog '"$SYSDIR\sc.exe" stop Calnet'
      Pop $0
      nsExec::ExecToLog '"$SYSDIR\sc.exe" delete Calnet'
      Pop $0
    ${EndIf}
  ${EndIf}

  DeleteRegValue HKLM "${RUN_KEY}" "Calnet"
  Delete "$SMPROGRAMS\Calnet.lnk"

  !include "${FILELIST}"
  Delete "$INSTDIR\Uninstall.exe"
  ; Only when empty: whatever someone else put there stays.
  RMDir "$INSTDIR"

  DeleteRegKey HKLM "${UNINSTALL_KEY}"
SectionEnd
