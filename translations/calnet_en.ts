<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>ProfileModel</name>
    <message numerus="yes">
        <source>%n peer(s)</source>
        <translation>
            <numerusform>%n peer</numerusform>
            <numerusform>%n peers</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TrayState</name>
    <message numerus="yes">
        <source>%n peer(s), %1 not responding</source>
        <translation>
            <numerusform>%n peer, %1 not responding</numerusform>
            <numerusform>%n peers, %1 not responding</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s)</source>
        <translation>
            <numerusform>%n peer</numerusform>
            <numerusform>%n peers</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s) through a relay</source>
        <translation>
            <numerusform>%n peer through a relay</numerusform>
            <numerusform>%n peers through a relay</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>calnet::app::Importer</name>
    <message numerus="yes">
        <source>… and %n more (see details)</source>
        <translation>
            <numerusform>… and %n more (see details)</numerusform>
            <numerusform>… and %n more (see details)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>calnet::app::MainWindow</name>
    <message numerus="yes">
        <source>%n peer(s) not responding</source>
        <translation>
            <numerusform>%n peer not responding</numerusform>
            <numerusform>%n peers not responding</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>The Calnet service (calnetd) is not reachable at %1. Retrying in %n second(s)…</source>
        <translation>
            <numerusform>The Calnet service (calnetd) is not reachable at %1. Retrying in %n second…</numerusform>
            <numerusform>The Calnet service (calnetd) is not reachable at %1. Retrying in %n seconds…</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>calnet::app::PeerBrowser</name>
    <message numerus="yes">
        <source>%n peer(s) (%1 shown)</source>
        <translation>
            <numerusform>%n peer (%1 shown)</numerusform>
            <numerusform>%n peers (%1 shown)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>every %n second(s)</source>
        <translation>
            <numerusform>every %n second</numerusform>
            <numerusform>every %n seconds</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>calnet::app::PeerModel</name>
    <message numerus="yes">
        <source>%n B</source>
        <translation>
            <numerusform>%n B</numerusform>
            <numerusform>%n B</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>calnet::app::TrayController</name>
    <message numerus="yes">
        <source>Show all %n peer(s)…</source>
        <translation>
            <numerusform>Show all %n peer…</numerusform>
            <numerusform>Show all %n peers…</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>calnet::signin::BrowserSignIn</name>
    <message numerus="yes">
        <source>The browser did not come back within %n minute(s). Sign in again.</source>
        <translation>
            <numerusform>The browser did not come back within %n minute. Sign in again.</numerusform>
            <numerusform>The browser did not come back within %n minutes. Sign in again.</numerusform>
        </translation>
    </message>
</context>
</TS>
