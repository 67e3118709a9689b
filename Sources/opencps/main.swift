import OpenCPSApp

await OpenCPSCommand.runAndExit()
