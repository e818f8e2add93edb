# The Veilig device agent for Windows, as a scheduled task that runs as SYSTEM at start-up and
# every hour (Windows services need a service control handler, which `veilig agent run` does
# not have; a scheduled task needs none). Run in an elevated PowerShell:
#   .\install-windows.ps1 -Portal https://veilig.example.nl -Token <token from the portal>
# Report now: Start-ScheduledTask -TaskName "Veilig agent"
param(
    [Parameter(Mandatory = $true)][string]$Portal,
    [Parameter(Mandatory = $true)][string]$Token,
    [string]$Exe = "$env:ProgramFiles\Veilig\veilig.exe"
)
$ErrorActionPreference = "Stop"
$dir = "$env:ProgramData\Veilig\agent"
New-Item -ItemType Directory -Force -Path $dir | Out-Null
# only SYSTEM and Administrators may read the device key
icacls $dir /inheritance:r /grant:r "SYSTEM:(OI)(CI)F" "Administrators:(OI)(CI)F" | Out-Null
$env:VEILIG_AGENT_TOKEN = $Token
& $Exe agent enroll $Portal --dir $dir
if ($LASTEXITCODE -ne 0) { throw "enrolment failed" }
Remove-Item Env:\VEILIG_AGENT_TOKEN
$action = New-ScheduledTaskAction -Execute $Exe -Argument "agent run --once --dir `"$dir`""
$triggers = @(
    (New-ScheduledTaskTrigger -AtStartup),
    (New-ScheduledTaskTrigger -Once -At (Get-Date) -RepetitionInterval (New-TimeSpan -Hours 1))
)
$principal = New-ScheduledTaskPrincipal -UserId "SYSTEM" -LogonType ServiceAccount -RunLevel Highest
$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Minutes 5) -StartWhenAvailable
Register-ScheduledTask -TaskName "Veilig agent" -Action $action -Trigger $triggers -Principal $principal -Settings $settings -Force | Out-Null
Start-ScheduledTask -TaskName "Veilig agent"
Write-Output "Veilig agent installed; it reports at start-up and every hour."
